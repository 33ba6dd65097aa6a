import Foundation
import SiftCore
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How key sets are fetched: bounds and what is allowed.
public struct FetchOptions: Sendable {
    /// Seconds to wait for the server (connection and each read), and for the whole transfer.
    public var timeout: Double = 10
    /// Largest document read; a larger one is cut off and refused.
    public var maximumBytes = 1 << 20
    /// Redirects followed; one more is an error (a loop ends here).
    public var maximumRedirects = 3
    /// Plain `http://` beyond loopback (`--allow-http`, `allow_http`).
    public var allowHTTP = false

    public init(timeout: Double = 10, maximumBytes: Int = 1 << 20, maximumRedirects: Int = 3, allowHTTP: Bool = false) {
        self.timeout = timeout
        self.maximumBytes = maximumBytes
        self.maximumRedirects = maximumRedirects
        self.allowHTTP = allowHTTP
    }

    /// Why `url` may not be fetched, or nil: https, or http to a loopback address (or with ``allowHTTP``).
    public func refusal(_ url: URL) -> String? {
        switch url.scheme?.lowercased() {
        case "https": return nil
        case "http":
            if allowHTTP || Self.isLoopback(url.host ?? "") { return nil }
            return "plain http:// is refused beyond loopback (use https://, or --allow-http)"
        default: return "not an https:// URL"
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        return h == "localhost" || h == "::1" || h == "[::1]" || h.hasPrefix("127.")
    }
}

/// One GET answered: its status, the headers a cache needs, and the body.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var etag: String?
    public var lastModified: String?
    public var cacheControl: String?
    public var body: [UInt8]
}

/// A failed GET, in words for a warning.
public struct FetchError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// GETs over FoundationNetworking's URLSession (libcurl and the system's OpenSSL: certificates verified against
/// the system's trust store; `https_proxy`, `http_proxy` and `no_proxy` honoured by libcurl). Synchronous: the
/// CLI waits for each document. Redirects are followed by hand up to ``FetchOptions/maximumRedirects``, each
/// checked against the scheme rule; the body is read as it streams and the transfer cancelled past the size bound.
public enum HTTPFetcher {
    public static func get(_ urlString: String, headers: [String: String] = [:], options: FetchOptions)
        throws(FetchError) -> HTTPAnswer
    {
        guard let url = URL(string: urlString), url.host != nil else { throw FetchError("not a URL") }
        if let refusal = options.refusal(url) { throw FetchError(refusal) }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: options.timeout)
        request.httpMethod = "GET"
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("jwtsift", forHTTPHeaderField: "User-Agent")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = options.timeout
        configuration.timeoutIntervalForResource = options.timeout * 3
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        let delegate = Delegate(options: options)
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        let task = session.dataTask(with: request)
        task.resume()
        // Past the transfer's own timeouts: a stuck transfer is cancelled here.
        if delegate.done.wait(timeout: .now() + options.timeout * 3 + 1) == .timedOut {
            task.cancel()
            throw FetchError("timed out after \(Int(options.timeout * 3 + 1)) s")
        }
        return try delegate.result()
    }

    /// Collects one task's answer; callbacks arrive on the session's queue, the result is read after `done`.
    final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let options: FetchOptions
        let done = DispatchSemaphore(value: 0)
        private let state = Mutex(State())

        struct State {
            var body: [UInt8] = []
            var response: HTTPURLResponse?
            var redirects = 0
            var failure: String?
        }

        init(options: FetchOptions) { self.options = options }

        func result() throws(FetchError) -> HTTPAnswer {
            let s = state.withLock { $0 }
            if let failure = s.failure { throw FetchError(failure) }
            guard let response = s.response else { throw FetchError("no response") }
            if (300..<400).contains(response.statusCode) && response.statusCode != 304 {
                throw FetchError("more than \(options.maximumRedirects) redirects (HTTP \(response.statusCode))")
            }
            func header(_ name: String) -> String? { response.value(forHTTPHeaderField: name) }
            return HTTPAnswer(
                status: response.statusCode, etag: header("ETag"), lastModified: header("Last-Modified"),
                cacheControl: header("Cache-Control"), body: s.body)
        }

        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
        ) {
            let allowed = state.withLock { s -> Bool in
                s.redirects += 1
                guard s.redirects <= options.maximumRedirects else { return false }
                if let url = request.url, let refusal = options.refusal(url) {
                    s.failure = "redirected to \(UntrustedText.display(url.absoluteString)): \(refusal)"
                    return false
                }
                return true
            }
            completionHandler(allowed ? request : nil)
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            let tooLarge = response.expectedContentLength > Int64(options.maximumBytes)
            state.withLock { s in
                s.response = response as? HTTPURLResponse
                if tooLarge { s.failure = "larger than \(options.maximumBytes) bytes" }
            }
            completionHandler(tooLarge ? .cancel : .allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let over = state.withLock { s -> Bool in
                s.body.append(contentsOf: data)
                guard s.body.count > options.maximumBytes else { return false }
                s.failure = "larger than \(options.maximumBytes) bytes"
                s.body = []
                return true
            }
            if over { dataTask.cancel() }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            state.withLock { s in
                if let error, s.failure == nil {
                    let e = error as NSError
                    s.failure =
                        e.code == NSURLErrorTimedOut
                        ? "timed out after \(Int(options.timeout)) s"
                        : UntrustedText.display(e.localizedDescription)
                }
            }
            done.signal()
        }
    }
}
