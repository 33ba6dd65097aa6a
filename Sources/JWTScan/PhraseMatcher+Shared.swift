extension PhraseMatcher {
    /// The matcher over ``PhraseTable/rules``, reading message times with `timeParser`: its tables are built once
    /// per process (a few milliseconds), then shared by every scanner that asks (they are immutable).
    ///
    /// (Building it on a thread of its own, started before a scan's arguments are parsed, was tried: on this
    /// 2-core machine shared with other work it was no faster — a second thread's malloc arena and the hop cost
    /// what the overlap saved — so it is built where it is first needed.)
    public static func standard(timeParser: TimestampParser = TimestampParser()) -> PhraseMatcher {
        var matcher = standardTables
        matcher.parser = timeParser
        return matcher
    }

    private static let standardTables = PhraseMatcher()
}
