import ArgumentParser

/// `oauth3-enclave`: the daemon and the tools around it. Each subcommand lives in its own file.
@main
struct OAuth3Enclave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth3-enclave",
        abstract: "Run AI-agent skills in an attested Deno sandbox.",
        subcommands: [
            ServeCommand.self, RunCommand.self, VerifyCommand.self, ComposeHashCommand.self, AppComposeCommand.self, DevGuestAgentCommand.self,
            BenchCommand.self, VerifyBenchCommand.self, EgressBenchCommand.self,
        ]
    )
}
