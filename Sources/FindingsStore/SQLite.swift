import CSQLite
import SiftCore

#if canImport(Glibc)
import Glibc
#endif

/// An SQLite error: the result code, SQLite's message and what jwtsift was doing.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var context: String

    public init(code: Int32, message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    /// The primary result code (SQLITE_BUSY, SQLITE_FULL, SQLITE_READONLY, SQLITE_CORRUPT, …).
    public var primary: Int32 { code & 0xFF }

    public var description: String {
        let hint: String =
            switch primary {
            case SQLITE_FULL: " (the disk is full)"
            case SQLITE_READONLY: " (the database or its directory is read-only)"
            case SQLITE_CORRUPT, SQLITE_NOTADB: " (the file is not a jwtsift database, or it is corrupt)"
            case SQLITE_CANTOPEN: " (cannot open the file)"
            case SQLITE_BUSY, SQLITE_LOCKED: " (another process holds the database)"
            case SQLITE_IOERR: " (I/O error)"
            default: ""
            }
        return "\(context): \(message)\(hint)"
    }
}

/// One SQLite connection, used from one thread at a time. Owns the `sqlite3*`; closes it on deinit.
public final class Connection {
    let handle: OpaquePointer
    private var closed = false

    /// SQLite's allocation statistics take a global mutex per malloc; jwtsift never reads them.
    private static let configured: Bool = { CSQLite_disableMemoryStatistics() == SQLITE_OK }()

    /// Opens (`create`: or creates) the database at `path`. `immutable`: read-only, and SQLite is told that no one
    /// can change the file (no lock, no `-shm`/`-wal` opened or created).
    public init(path: String, readOnly: Bool = false, create: Bool = true, immutable: Bool = false)
        throws(SQLiteError)
    {
        _ = Self.configured
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |=
            readOnly || immutable
            ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))
        if immutable { flags |= SQLITE_OPEN_URI }
        let name = immutable ? Self.uri(path) + "?mode=ro&immutable=1" : path
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, context: "opening \(path)")
        }
        handle = db
    }

    /// `path` as a `file:` URI (RFC 3986: every byte but unreserved ones and `/` percent-encoded).
    static func uri(_ path: String) -> String {
        var out = "file:"
        for b in path.utf8 {
            let unreserved =
                (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
                || b == UInt8(ascii: "/")
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count < 2 ? "0" : "") + h
            }
        }
        return out
    }

    /// Opens a database only to read it, wherever it lies: read-only, and when even that fails because the
    /// file cannot be written beside (a read-only mount or directory, a file the user cannot write, so no
    /// `-shm` can be made), as immutable, which needs nothing written. A `-wal` file with content that cannot be
    /// read that way is an error: the findings in it would be left out.
    public static func openForReading(path: String) throws(SQLiteError) -> Connection {
        let c = try Connection(path: path, readOnly: true, create: false)
        do {
            // The first read opens the WAL index; this is where a database that cannot be written beside fails.
            _ = try c.userVersion
            return c
        } catch {
            c.close()
            guard error.primary == SQLITE_READONLY || error.primary == SQLITE_CANTOPEN else { throw error }
            var st = stat()
            if stat(path + "-wal", &st) == 0 && st.st_size > 0 {
                throw SQLiteError(
                    code: error.code,
                    message:
                        "its -wal file holds findings that cannot be read without writing beside the database; copy the database with its -wal and -shm files to a writable place",
                    context: "opening \(path)")
            }
            let ro = try Connection(path: path, immutable: true)
            _ = try ro.userVersion
            return ro
        }
    }

    /// `PRAGMA quick_check`: nil when the file is sound, else SQLite's first findings (at most three), or its
    /// error when the damage stops the check itself.
    public func quickCheck() throws(SQLiteError) -> String? {
        do {
            let rows = try prepare("PRAGMA quick_check(3)").allRows()
            let problems = rows.compactMap { $0.first ?? nil }
            return problems == ["ok"] ? nil : problems.joined(separator: "; ")
        } catch  where error.primary == SQLITE_CORRUPT || error.primary == SQLITE_NOTADB {
            return error.message
        }
    }

    deinit { close() }

    /// Whether a transaction is open on this connection (SQLite's autocommit mode is off).
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Closes the connection (statements still alive are finalized as they go). Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32, _ context: String) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), context: context)
    }

    /// Runs one or more statements without results.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw SQLiteError(
                code: sqlite3_extended_errcode(handle), message: text, context: "running \(sql.prefix(60))")
        }
    }

    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, "preparing \(sql.prefix(60))") }
        return Statement(stmt, connection: self)
    }

    /// The first column of the first row of `sql`, as an integer.
    public func scalar(_ sql: String) throws(SQLiteError) -> Int64? {
        let s = try prepare(sql)
        return try s.step() ? s.int(0) : nil
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// How long a statement waits for another connection's lock before SQLITE_BUSY.
    public func busyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    public var userVersion: Int {
        get throws(SQLiteError) { Int(try scalar("PRAGMA user_version") ?? 0) }
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back if it throws.
    public func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        if inTransaction {
            // Inside a transaction already (the writer's group of small sources, see ``StoreWriter``): part of it.
            // Whoever opened it rolls it back whole on a failure. (Not a savepoint: SQLite copies every page a
            // savepoint changes to a statement journal first — 500,000 writes for 2,000 small files.)
            return try body()
        }
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement. Binding is by 1-based index; `step()` returns whether a row is available.
public final class Statement {
    let handle: OpaquePointer
    unowned let connection: Connection

    init(_ handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    // Bind failures mean a wrong index or type in jwtsift's own SQL, never bad input; they surface at step().
    public func bind(_ i: Int32, _ v: Int64) { sqlite3_bind_int64(handle, i, v) }
    public func bind(_ i: Int32, _ v: Int) { sqlite3_bind_int64(handle, i, Int64(v)) }
    public func bind(_ i: Int32, _ v: Double) { sqlite3_bind_double(handle, i, v) }
    public func bind(_ i: Int32, _ v: Bool) { sqlite3_bind_int64(handle, i, v ? 1 : 0) }
    public func bind(_ i: Int32, _ v: String) {
        var v = v
        v.withUTF8 { b in
            let empty: StaticString = ""
            let base = UnsafeRawPointer(b.baseAddress ?? empty.utf8Start).assumingMemoryBound(to: CChar.self)
            _ = sqlite3_bind_text(handle, i, base, Int32(b.count), CSQLite_transient())
        }
    }
    /// Binds text that outlives the statement's use of it (SQLite does not copy it).
    public func bind(_ i: Int32, interned v: InternedText) { sqlite3_bind_text(handle, i, v.pointer, v.count, nil) }
    public func bind(_ i: Int32, interned v: InternedText?) {
        if let v { sqlite3_bind_text(handle, i, v.pointer, v.count, nil) } else { sqlite3_bind_null(handle, i) }
    }
    public func bindNull(_ i: Int32) { sqlite3_bind_null(handle, i) }
    public func bind(_ i: Int32, _ v: Int64?) { if let v { bind(i, v) } else { bindNull(i) } }
    public func bind(_ i: Int32, _ v: Int?) { if let v { bind(i, Int64(v)) } else { bindNull(i) } }
    public func bind(_ i: Int32, _ v: Double?) { if let v, v.isFinite { bind(i, v) } else { bindNull(i) } }
    public func bind(_ i: Int32, _ v: String?) { if let v { bind(i, v) } else { bindNull(i) } }

    /// Steps once: true when a row is ready, false when done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let e = connection.error(
            sqlite3_extended_errcode(connection.handle), "executing \(String(cString: sqlite3_sql(handle)).prefix(60))")
        sqlite3_reset(handle)
        throw e
    }

    /// Runs to completion and resets, keeping the bindings' slots for the next use.
    public func run() throws(SQLiteError) {
        while try step() {}
        sqlite3_reset(handle)
    }

    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func string(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        // By length, not up to the first NUL: text may hold one.
        return String(
            decoding: UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }
    /// The bytes of a text or blob column, valid for the duration of `body` (not copied).
    public func withBytes<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let p = sqlite3_column_blob(handle, column)
        return body(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))))
    }
    public var columnCount: Int32 { sqlite3_column_count(handle) }
    /// The largest parameter index the statement uses.
    public var parameterCount: Int32 { sqlite3_bind_parameter_count(handle) }
    public func columnName(_ column: Int32) -> String { String(cString: sqlite3_column_name(handle, column)) }

    /// Every row as text (NULL as nil): for tests and small queries.
    public func allRows() throws(SQLiteError) -> [[String?]] {
        var rows: [[String?]] = []
        while try step() { rows.append((0..<columnCount).map { string($0) }) }
        sqlite3_reset(handle)
        return rows
    }
}

/// Text kept at a fixed address for the life of the process (cause words, statuses), so statements can bind it
/// without SQLite copying it per row. Make one per vocabulary word, once.
public struct InternedText: @unchecked Sendable, Equatable {
    public let pointer: UnsafePointer<CChar>
    public let count: Int32

    /// Never freed: made once per distinct word (a few dozen per process).
    public init(_ s: String) {
        let bytes = Array(s.utf8CString)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        p.initialize(from: bytes, count: bytes.count)
        pointer = UnsafePointer(p)
        count = Int32(bytes.count - 1)
    }
}

/// A value read from or bound to a statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)

    public var double: Double? {
        switch self {
        case .int(let v): Double(v)
        case .real(let v): v
        default: nil
        }
    }

    public var int: Int64? {
        switch self {
        case .int(let v): v
        case .real(let v): v.isFinite ? Int64(v) : nil
        default: nil
        }
    }

    public var string: String? {
        switch self {
        case .text(let s): s
        case .int(let v): String(v)
        case .real(let v): String(v)
        case .null: nil
        }
    }
}

extension Statement {
    public func value(_ column: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: .int(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: .real(sqlite3_column_double(handle, column))
        case SQLITE_NULL: .null
        default: .text(string(column) ?? "")
        }
    }

    public func bind(_ i: Int32, value: SQLValue) {
        switch value {
        case .null: bindNull(i)
        case .int(let v): bind(i, v)
        case .real(let v): bind(i, v)
        case .text(let s): bind(i, s)
        }
    }

    /// Every row as values.
    public func values() throws(SQLiteError) -> [[SQLValue]] {
        var rows: [[SQLValue]] = []
        while try step() { rows.append((0..<columnCount).map { value($0) }) }
        sqlite3_reset(handle)
        return rows
    }
}
