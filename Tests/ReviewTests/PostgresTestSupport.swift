import Foundation
@testable import Store
import XCTest

/// A fresh PostgreSQL database per test on the server that scripts/postgres.sh starts ($FRACVIEW_TEST_PG_URL),
/// dropped when the test ends. Without a server the test skips, except under CI, which must run them.
enum PostgresTestServer {
    static var baseURL: String? { ProcessInfo.processInfo.environment["FRACVIEW_TEST_PG_URL"] }
    /// The command that restarts the server (scripts/postgres.sh restart).
    static var restartCommand: String? { ProcessInfo.processInfo.environment["FRACVIEW_TEST_PG_RESTART"] }

    static func requireServer() throws -> String {
        guard let url = baseURL else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                XCTFail("CI must run the PostgreSQL tests: FRACVIEW_TEST_PG_URL is not set (scripts/postgres.sh start)")
            }
            throw XCTSkip("no PostgreSQL server: run `eval \"$(bash scripts/postgres.sh start)\"` to run the PostgreSQL tests")
        }
        return url
    }

    /// A new empty database; its URL (with the password, for the test's own use).
    static func freshDatabase(_ test: XCTestCase) throws -> String {
        let base = try requireServer()
        let name = "fracview_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try PostgresConnection(url: PostgresURL(base))
        try admin.execute("CREATE DATABASE \(name)")
        test.addTeardownBlock {
            if let admin = try? PostgresConnection(url: PostgresURL(base)) {
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        }
        return replacingDatabase(in: base, with: name)
    }

    static func replacingDatabase(in url: String, with name: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let slash = url[schemeEnd.upperBound...].firstIndex(of: "/") else {
            return url + "/" + name
        }
        let query = url[slash...].firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        return String(url[..<slash]) + "/" + name + query
    }

    static func restart() throws {
        guard let command = restartCommand else { throw XCTSkip("FRACVIEW_TEST_PG_RESTART is not set") }
        // system(3), not Process: the restarted server would inherit Foundation's pipe and block waitUntilExit.
        XCTAssertEqual(system("\(command) >/dev/null 2>&1 </dev/null"), 0, "restarting PostgreSQL failed")
    }
}
