import DCAPVerifier
import Foundation
import Gateway
import TestSupport
import Yams

/// The rules dstack/docker-compose.yml and dstack/Dockerfile must keep, as functions that list every
/// problem, so the tests run them on the real files (no problems) and on broken copies (the right ones).
///
/// What the daemon reads comes from ``ServeEnvironment`` alone; the privileges the deployment grants are
/// stated once here, each with the reason DEPLOY.md gives, so a new one cannot slip in unexplained.
enum DeploymentCheck {
    static let directory = Fixture.repository.appendingPathComponent("dstack")
    static let serviceName = "oauth3-enclave"
    static let dstackSocket = "/var/run/dstack.sock"
    /// Kept by the daemon: each job's mount point (CHOWN), user-namespace map and groups (SETUID, SETGID).
    static let daemonCapabilities: Set<String> = ["CHOWN", "SETUID", "SETGID"]
    /// Held by the entrypoint only, which drops both before the daemon starts.
    static let entrypointCapabilities: Set<String> = ["SYS_ADMIN", "SETPCAP"]
    static let securityOptions: Set<String> = ["no-new-privileges:true", "seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"]
    /// Keys a service must not have: each would let something unmeasured in, or widen the container.
    static let forbiddenServiceKeys = [
        "build", "privileged", "network_mode", "pid", "ipc", "devices", "volumes_from", "env_file", "extends", "userns_mode", "cgroup_parent",
    ]
    static var daemonVariables: Set<String> { Set(ServeEnvironment.allCases.map(\.rawValue)) }

    static func read(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    // MARK: docker-compose.yml

    /// Every way `text` departs from the deployment's rules; empty when it keeps them all.
    static func composeProblems(_ text: String) -> [String] {
        guard let root = (try? Yams.load(yaml: text)) as? [String: Any] else { return ["not a YAML mapping"] }
        var problems: [String] = []
        let extra = Set(root.keys).subtracting(["services", "volumes", OSPinSelection.composeKey])
        if !extra.isEmpty { problems.append("top-level keys besides services, volumes and \(OSPinSelection.composeKey): \(extra.sorted())") }
        if let release = root[OSPinSelection.composeKey] as? String {
            let pin = directory.appendingPathComponent("os/\(release).json").path
            if !FileManager.default.fileExists(atPath: pin) { problems.append("\(OSPinSelection.composeKey) names \(release), which has no pin dstack/os/\(release).json") }
        } else {
            problems.append("no \(OSPinSelection.composeKey): the compose file must name the dstack OS release it targets")
        }
        let services = root["services"] as? [String: Any] ?? [:]
        if Set(services.keys) != [serviceName] {
            problems.append("services must be exactly [\(serviceName)], not \(services.keys.sorted())")
        }
        guard let service = services[serviceName] as? [String: Any] else { return problems + ["no service \(serviceName)"] }
        let declaredVolumes = Set((root["volumes"] as? [String: Any] ?? [:]).keys)

        let image = service["image"] as? String ?? ""
        if image.range(of: #"^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$"#, options: .regularExpression) == nil {
            problems.append("image '\(image)' is not pinned by an @sha256 digest")
        }
        for key in forbiddenServiceKeys where service[key] != nil {
            problems.append("the service sets '\(key)'")
        }
        if service["user"] == nil { problems.append("the service does not state its user") }

        let environment = environmentVariables(service["environment"])
        for name in environment.keys.sorted() where !daemonVariables.contains(name) {
            problems.append("environment variable \(name) is not one the daemon reads")
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            for reference in AppCompose.referencedVariables(in: value) where !daemonVariables.contains(reference) {
                problems.append("\(name) interpolates $\(reference), which the daemon does not read")
            }
        }
        var elsewhere = service
        elsewhere["environment"] = nil
        for reference in interpolations(in: elsewhere) {
            problems.append("$\(reference) is interpolated outside the environment: an unmeasured value would choose it")
        }

        var mountsSocket = false
        var dataMounted = false
        let dataDirectory = environment[ServeEnvironment.dataDirectory.rawValue]
        for volume in service["volumes"] as? [Any] ?? [] {
            guard let (source, target, isBind) = mount(volume) else { problems.append("volume \(volume) is not understood"); continue }
            if source == dstackSocket && target == dstackSocket {
                mountsSocket = true
            } else if isBind || source.hasPrefix("/") || source.hasPrefix(".") || source.hasPrefix("~") {
                problems.append("host path \(source) is mounted (only \(dstackSocket) may be)")
            } else if !declaredVolumes.contains(source) {
                problems.append("volume \(source) is not a declared named volume")
            } else if target == dataDirectory {
                dataMounted = true
            }
        }
        if !mountsSocket { problems.append("\(dstackSocket) is not mounted") }
        if !dataMounted { problems.append("no named volume at the data directory \(dataDirectory ?? "(OAUTH3_DATA_DIR unset)")") }

        if (service["cap_drop"] as? [String]) != ["ALL"] { problems.append("cap_drop must be [ALL]") }
        let added = Set(service["cap_add"] as? [String] ?? [])
        let granted = daemonCapabilities.union(entrypointCapabilities)
        if added != granted { problems.append("cap_add \(added.sorted()) differs from the justified \(granted.sorted())") }
        for option in service["security_opt"] as? [String] ?? [] where !securityOptions.contains(option) {
            problems.append("security_opt \(option) is not one of the justified \(securityOptions.sorted())")
        }
        let probe = ((service["healthcheck"] as? [String: Any])?["test"] as? [String])?.joined(separator: " ") ?? ""
        if !probe.contains("/readyz") { problems.append("the health check does not probe /readyz") }
        return problems
    }

    /// The service's environment, from the map or the `KEY=VALUE` list form.
    static func environmentVariables(_ value: Any?) -> [String: String] {
        if let map = value as? [String: Any] { return map.mapValues { "\($0)" } }
        var result: [String: String] = [:]
        for item in value as? [String] ?? [] {
            let parts = item.split(separator: "=", maxSplits: 1)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    /// A volume entry's source, target and whether it is a bind mount (short or long syntax).
    static func mount(_ entry: Any) -> (source: String, target: String, isBind: Bool)? {
        if let text = entry as? String {
            let parts = text.split(separator: ":").map(String.init)
            guard parts.count >= 2 else { return nil }
            return (parts[0], parts[1], parts[0].hasPrefix("/") || parts[0].hasPrefix("."))
        }
        guard let map = entry as? [String: Any], let source = map["source"] as? String, let target = map["target"] as? String else { return nil }
        return (source, target, (map["type"] as? String) == "bind")
    }

    /// Variables interpolated anywhere in a YAML value.
    static func interpolations(in value: Any) -> [String] {
        switch value {
        case let text as String: AppCompose.referencedVariables(in: text)
        case let list as [Any]: list.flatMap(interpolations)
        case let map as [String: Any]: map.values.flatMap(interpolations)
        default: []
        }
    }

    // MARK: Dockerfile

    /// Every way the Dockerfile departs from the deployment's rules, given the compose file it is run by.
    static func dockerfileProblems(_ text: String, compose: String, denoRequirements: String, setupScript: String) -> [String] {
        let dockerfile: Dockerfile
        do { dockerfile = try Dockerfile(parsing: text) } catch { return ["\(error)"] }
        var problems: [String] = []
        let froms = dockerfile.instructions.filter { $0.keyword == "FROM" }
        for from in froms where from.arguments.range(of: #"^\S+@sha256:[0-9a-f]{64}( +(AS|as) +[a-z0-9_-]+)?$"#, options: .regularExpression) == nil {
            problems.append("line \(from.line): FROM \(from.arguments) is not pinned by an @sha256 digest")
        }
        if froms.count < 2 { problems.append("not a multi-stage build") }
        if froms.first.map({ !$0.arguments.hasPrefix("swift:") }) ?? true { problems.append("the first stage does not build with the Swift toolchain image") }
        if froms.last.map({ $0.arguments.hasPrefix("swift:") }) ?? false { problems.append("the runtime stage is the Swift toolchain image") }

        // Deno: the version scripts/setup.sh installs, held to one wheel by hash, installed from that file.
        let setupVersion = setupScript.firstMatch(of: /DENO_VERSION=([0-9.]+)/).map { String($0.1) }
        let pinned = denoRequirements.firstMatch(of: /(?m)^deno==([0-9.]+) --hash=sha256:[0-9a-f]{64}$/).map { String($0.1) }
        if pinned == nil { problems.append("deno-requirements.txt does not pin deno==VERSION --hash=sha256:…") }
        if pinned != "2.9.8" || setupVersion != pinned {
            problems.append("Deno is pinned to \(pinned ?? "nothing") in the image and \(setupVersion ?? "nothing") by scripts/setup.sh; both must be 2.9.8")
        }
        let runs = dockerfile.instructions.filter { $0.keyword == "RUN" }.map(\.arguments)
        if !runs.contains(where: { $0.contains("pip install") && $0.contains("--require-hashes") && $0.contains("deno-requirements.txt") }) {
            problems.append("no RUN installs Deno with pip --require-hashes from deno-requirements.txt")
        }

        let environment = dockerfile.environment
        for name in environment.keys.sorted() where !daemonVariables.contains(name) {
            problems.append("ENV \(name) is not a variable the daemon reads")
        }
        let copied = dockerfile.copiedPaths
        for variable in [ServeEnvironment.deno, .jail, .policies] {
            guard let path = environment[variable.rawValue] else { problems.append("ENV does not set \(variable.rawValue)"); continue }
            if !copied.contains(where: { $0.destination == path }) { problems.append("\(variable.rawValue)=\(path) is not where a COPY puts it") }
        }
        if !copied.contains(where: { $0.source == "policies" && !$0.fromStage && $0.destination == environment[ServeEnvironment.policies.rawValue] }) {
            problems.append("policies/ is not copied to OAUTH3_POLICIES")
        }
        for path in copied where !path.fromStage && !FileManager.default.fileExists(atPath: Fixture.repository.appendingPathComponent(path.source).path) {
            problems.append("COPY \(path.source): no such file in the repository")
        }

        let final = dockerfile.finalStage
        let installs = final.filter { $0.keyword == "RUN" && $0.arguments.contains("apt-get install") }.map(\.arguments).joined(separator: " ")
        for package in ["libseccomp2", "libcap2", "libsqlite3-0"] where !installs.split(separator: " ").contains(Substring(package)) {
            problems.append("the runtime stage does not install \(package)")
        }
        let user = final.last { $0.keyword == "USER" }?.arguments
        let composeService = ((try? Yams.load(yaml: compose)) as? [String: Any]).flatMap { ($0["services"] as? [String: Any])?[serviceName] as? [String: Any] }
        let composeUser = composeService?["user"] as? String
        if user == nil { problems.append("the runtime stage does not state its USER") }
        if (user == "root" || user == "0") != (composeUser == "0:0" || composeUser == "root") {
            problems.append("the Dockerfile's USER \(user ?? "-") and the compose file's user \(composeUser ?? "-") disagree")
        }
        let entrypoint = final.last { $0.keyword == "ENTRYPOINT" }?.arguments ?? ""
        if !copied.contains(where: { $0.source == "dstack/entrypoint.sh" && entrypoint == "[\"\($0.destination)\"]" }) {
            problems.append("ENTRYPOINT is not the copied dstack/entrypoint.sh, in exec form")
        }
        if final.last(where: { $0.keyword == "CMD" })?.arguments != #"["oauth3-enclave", "serve"]"# { problems.append("CMD is not [\"oauth3-enclave\", \"serve\"]") }
        let dataDirectory = environment[ServeEnvironment.dataDirectory.rawValue]
        if !final.contains(where: { $0.keyword == "VOLUME" && $0.arguments == dataDirectory }) { problems.append("VOLUME is not OAUTH3_DATA_DIR") }
        if !final.contains(where: { $0.keyword == "EXPOSE" && $0.arguments == environment[ServeEnvironment.port.rawValue] }) {
            problems.append("EXPOSE is not OAUTH3_PORT")
        }
        for capability in daemonCapabilities.union(entrypointCapabilities) where !text.contains(capability) {
            problems.append("the Dockerfile does not explain why the container holds \(capability)")
        }
        return problems
    }

    /// Digests and registries that stand in for real ones until an operator fills them (DEPLOY.md).
    static func placeholders(in texts: [String: String]) -> [String] {
        texts.sorted { $0.key < $1.key }.flatMap { name, text in
            text.split(separator: "\n").enumerated().compactMap { index, line in
                line.hasPrefix("#") || !(line.contains("@sha256:" + String(repeating: "0", count: 64)) || line.contains("registry.example"))
                    ? nil : "\(name):\(index + 1): \(line.trimmingWhitespace())"
            }
        }
    }
}
