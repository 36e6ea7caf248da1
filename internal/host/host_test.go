package host

import "testing"

func TestX32InConfig(t *testing.T) {
	for cfg, want := range map[string]bool{
		"CONFIG_X86_64=y\n# CONFIG_X86_X32_ABI is not set\nCONFIG_IA32_EMULATION=y\n": false,
		"# CONFIG_X86_X32_ABI is not set\n":                                           false,
		"CONFIG_X86_X32_ABI=y\n":                                                      true,
		"CONFIG_ARM64=y\n":                                                            true, // no such option: nothing to leave out
		"# CONFIG_X86_X32_ABI_EXTRA is not set\n":                                     true,
	} {
		if got := x32InConfig(cfg); got != want {
			t.Errorf("x32InConfig(%q) = %v, want %v", cfg, got, want)
		}
	}
}
