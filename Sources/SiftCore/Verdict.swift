/// The verdict for one sighting.
public struct Verdict: Sendable, Equatable {
    /// The first cause in precedence order.
    public var cause: Cause
    /// Every cause that applies.
    public var causes: CauseSet
    /// iat − log time, in seconds, when the token has iat.
    public var skew: Double?

    public init(cause: Cause, causes: CauseSet, skew: Double?) {
        self.cause = cause
        self.causes = causes
        self.skew = skew
    }
}
