/// The zone used for log times that carry no offset (`--timezone`).
public struct LocalZone: Sendable {
    /// Seconds east of UTC for a wall-clock time given as seconds since 1970-01-01T00:00 *local*.
    public let offsetForLocal: @Sendable (Int64) -> Int
    public let name: String

    public init(name: String, offsetForLocal: @escaping @Sendable (Int64) -> Int) {
        self.name = name
        self.offsetForLocal = offsetForLocal
    }

    public static let utc = LocalZone(name: "UTC") { _ in 0 }

    public static func fixed(seconds: Int, name: String? = nil) -> LocalZone {
        LocalZone(name: name ?? "fixed\(seconds)") { _ in seconds }
    }
}
