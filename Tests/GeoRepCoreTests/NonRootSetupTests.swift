@testable import GeoRepCore
import Testing

/// The step a non-root session's create leaves to an operator on the secondary pool.
@Suite struct NonRootSetupTests {
    @Test func aNonRootSessionNamesTheScriptItsAccountAndVolumes() throws {
        let ref = SessionRef(cluster: "pool", primaryVolume: "uvol", secondaryHost: "S1", secondaryVolume: "suvol", secondaryUser: "geoaccount")
        let step = try #require(NonRootSetup.keysStep(for: ref))
        #expect(step.contains("set_geo_rep_pem_keys.sh geoaccount uvol suvol"), "\(step)")
        #expect(step.contains("(s1)"), "\(step)")
    }

    @Test func aRootSessionHasNoStep() {
        #expect(NonRootSetup.keysStep(for: SessionRef(cluster: "pool", primaryVolume: "uvol", secondaryHost: "s1", secondaryVolume: "suvol")) == nil)
        #expect(NonRootSetup.keysStep(for: SessionRef(cluster: "pool", primaryVolume: "uvol", secondaryHost: "s1", secondaryVolume: "suvol",
                                                      secondaryUser: "root")) == nil)
    }
}
