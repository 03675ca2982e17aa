import CCap

/// Layer: no capabilities. The bounding and ambient sets are emptied while the jail still holds
/// CAP_SETPCAP, then effective, permitted and inheritable, with libcap. Checked afterwards.
enum Capabilities {
    /// Empties the bounding set (so exec can never grant a capability back) and the ambient set.
    static func dropBoundingAndAmbient() throws(JailFailure) {
        guard cap_reset_ambient() == 0 else { throw failure(.capabilities, "cap_reset_ambient") }
        for capability in 0..<cap_max_bits() where cap_get_bound(cap_value_t(capability)) == 1 {
            guard cap_drop_bound(cap_value_t(capability)) == 0 else {
                throw failure(.capabilities, "cap_drop_bound(\(capability))")
            }
        }
    }

    /// Clears effective, permitted and inheritable, then verifies every set is empty.
    static func clearAll() throws(JailFailure) {
        guard let empty = cap_init() else { throw failure(.capabilities, "cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(empty)) }
        guard cap_set_proc(empty) == 0 else { throw failure(.capabilities, "cap_set_proc(empty)") }
        guard let current = cap_get_proc() else { throw failure(.capabilities, "cap_get_proc") }
        defer { cap_free(UnsafeMutableRawPointer(current)) }
        guard cap_compare(current, empty) == 0 else { throw JailFailure(.capabilities, "capabilities remain after clearing") }
        for capability in 0..<cap_max_bits() where cap_get_bound(cap_value_t(capability)) != 0 {
            throw JailFailure(.capabilities, "bounding set still holds capability \(capability)")
        }
    }
}
