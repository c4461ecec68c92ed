package packager

// Unexported values the external tests compare against the runtime's half of the ABI.
var (
	ABIVersionForTest      = abiVersion
	WrapperTemplateForTest = wrapperTemplateText
)
