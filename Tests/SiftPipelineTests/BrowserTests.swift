import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The HTML report in a real headless browser (Debian's chromium, installed by .ci/run).
@Suite("HTML report in Chromium", .serialized)
struct BrowserTests {
    @Test("the page loads without console messages and shows every section; a screenshot is drawn")
    func chromium() throws {
        guard access("/usr/bin/chromium", X_OK) == 0 else {
            Issue.record("chromium is not installed (apt-get install chromium; .ci/run does it)")
            return
        }
        let s = Scratch()
        _ = ReportTests.story(s)
        let html = s.path("report.html")
        #expect(runCLI(["report", "--db", s.db, "--format", "html", "--output", html]).status == 0)
        let png = s.path("shot.png")
        let flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr --v=0"
        let dom = s.path("dom.html")
        let log = s.path("chromium.log")
        let rc = system("timeout 120 chromium \(flags) --dump-dom 'file://\(html)' >'\(dom)' 2>'\(log)'")
        #expect(rc == 0)
        let domText = readAll(dom)
        let logText = readAll(log)
        #expect(
            !logText.contains(":CONSOLE"),
            "the page logged to the console: \(logText.split(separator: "\n").filter { $0.contains("CONSOLE") })")
        for id in [
            "overview", "by_cause", "by_issuer", "by_kid", "by_source", "clock_drift", "timeline", "key_rotation",
            "disagreements", "token_paths", "leak_audit", "top_offenders", "error_messages",
        ] {
            #expect(domText.contains("<section id=\"\(id)\">"), "section \(id) missing from the rendered page")
        }
        #expect(domText.contains("<svg"))
        #expect(domText.contains("SECURITY: 6 sightings"))
        let shot = system(
            "timeout 120 chromium \(flags) --window-size=1280,2000 --screenshot='\(png)' 'file://\(html)' >/dev/null 2>&1"
        )
        #expect(shot == 0)
        var st = stat()
        #expect(stat(png, &st) == 0 && st.st_size > 20_000, "no screenshot, or an empty one")
    }
}
