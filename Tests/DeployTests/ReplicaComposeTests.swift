import Foundation
import Gateway
import TestSupport
import Testing
import Yams

/// dstack/docker-compose.replicas.yml: the replicas' variant keeps every rule of the single daemon's compose
/// file, runs the same image, and takes the database URL (its password) only from the encrypted environment.
@Suite("The replicas' compose file")
struct ReplicaComposeTests {
    @Test("It keeps every rule of the measured compose file")
    func keepsTheRules() throws {
        #expect(DeploymentCheck.composeProblems(try DeploymentCheck.read("docker-compose.replicas.yml")) == [])
    }

    @Test("It runs the image the single daemon's compose file pins")
    func sameImage() throws {
        func image(_ name: String) throws -> String? {
            let root = try Yams.load(yaml: try DeploymentCheck.read(name)) as? [String: Any]
            return ((root?["services"] as? [String: Any])?[DeploymentCheck.serviceName] as? [String: Any])?["image"] as? String
        }
        let single = try #require(try image("docker-compose.yml"))
        #expect(try image("docker-compose.replicas.yml") == single)
    }

    @Test("The database URL is interpolated from the encrypted environment, never written (with a password) in the measured text")
    func databaseURLIsNotMeasured() throws {
        let text = try DeploymentCheck.read("docker-compose.replicas.yml")
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let service = try #require((root["services"] as? [String: Any])?[DeploymentCheck.serviceName] as? [String: Any])
        let environment = DeploymentCheck.environmentVariables(service["environment"])
        let variable = ServeEnvironment.databaseURL.rawValue
        let value = try #require(environment[variable])
        #expect(value.hasPrefix("${\(variable):?"), "\(value)")
        #expect(text.range(of: #"postgres(ql)?://[^\s:@]+:[^\s@]+@"#, options: .regularExpression) == nil, "no user:password@ in the measured text")
    }
}
