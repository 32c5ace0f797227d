import Foundation
@testable import Tagger
import XCTest

final class SystemdSocketActivationTests: XCTestCase {
    let pid: pid_t = 4242

    func testOneSocketForThisProcessIsDescriptorThree() throws {
        XCTAssertEqual(try SystemdSocketActivation.listeningSocket(environment: ["LISTEN_PID": "4242", "LISTEN_FDS": "1"],
                                                                   processID: pid), 3)
    }

    func testNoSocketsOrSocketsForAnotherProcess() throws {
        XCTAssertNil(try SystemdSocketActivation.listeningSocket(environment: [:], processID: pid))
        XCTAssertNil(try SystemdSocketActivation.listeningSocket(environment: ["LISTEN_PID": "4242", "LISTEN_FDS": "0"],
                                                                 processID: pid))
        XCTAssertNil(try SystemdSocketActivation.listeningSocket(environment: ["LISTEN_PID": "1", "LISTEN_FDS": "1"],
                                                                 processID: pid))
    }

    func testMalformedOrSeveralSocketsAreErrors() {
        for environment in [["LISTEN_PID": "x", "LISTEN_FDS": "1"], ["LISTEN_PID": "4242", "LISTEN_FDS": "-1"],
                            ["LISTEN_PID": "4242", "LISTEN_FDS": "2"]] {
            XCTAssertThrowsError(try SystemdSocketActivation.listeningSocket(environment: environment, processID: pid),
                                 "\(environment)")
        }
    }
}
