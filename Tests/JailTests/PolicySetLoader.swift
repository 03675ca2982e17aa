import Jail
import Sandbox
import TestSupport

enum PolicySetLoader {
    /// The repository's seccomp policy.
    static func seccomp() throws -> SeccompPolicy { try PolicySet.load(from: Fixture.policies).seccomp }
}
