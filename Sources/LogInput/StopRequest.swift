import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A request to stop (SIGINT/SIGTERM) that also wakes a read blocked on a stream: a pipe, a FIFO with or without a
/// writer, a terminal. The reader waits with `poll(2)` on its input and on ``wakeDescriptor``; ``request(_:)``
/// writes a byte to the other end of that self-pipe, so the wait ends at once instead of at the next byte of input.
///
/// ``request(_:)`` is async-signal-safe (a lock-free atomic store and one `write(2)`): a signal handler may call it.
public final class StopRequest: Sendable {
    private let code = Atomic<Int32>(0)
    /// Readable once a stop was requested; -1 when no pipe could be made (waits then wake every 50 ms to look).
    public let wakeDescriptor: Int32
    private let notifyDescriptor: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        } else {
            fds = [-1, -1]
        }
        wakeDescriptor = fds[0]
        notifyDescriptor = fds[1]
    }

    deinit {
        if wakeDescriptor >= 0 { close(wakeDescriptor) }
        if notifyDescriptor >= 0 { close(notifyDescriptor) }
    }

    /// Asks to stop, recording why (a signal number, say; nonzero). The first request's code is kept.
    public func request(_ why: Int32 = 1) {
        _ = code.compareExchange(expected: 0, desired: why == 0 ? 1 : why, ordering: .relaxed)
        guard notifyDescriptor >= 0 else { return }
        var byte: UInt8 = 1
        // A full pipe (EAGAIN) already wakes every waiter: nothing to retry.
        _ = write(notifyDescriptor, &byte, 1)
    }

    /// The code given to the first ``request(_:)``; 0 while none was made.
    public var requested: Int32 { code.load(ordering: .relaxed) }

    public var isRequested: Bool { requested != 0 }

    /// Waits until `fd` has something to read (data, end of file or an error) or a stop is requested.
    /// - Returns: false when the wait ended because of a stop request.
    public func waitReadable(_ fd: Int32) -> Bool {
        while !isRequested {
            var fds = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            // Without a wake pipe, look at the flag every 50 ms.
            let n = poll(&fds, wakeDescriptor >= 0 ? 2 : 1, wakeDescriptor >= 0 ? -1 : 50)
            if n < 0 && errno != EINTR { return !isRequested }
            if fds[0].revents != 0 { return !isRequested }
        }
        return false
    }
}
