package format

// ListText is the --format text of a list command: the flag's, else the format the config file
// sets for the command (unless -q asks for IDs only), else the command's default table.
func ListText(flag, configured string, quiet bool) string {
	switch {
	case flag != "":
		return flag
	case configured != "" && !quiet:
		return configured
	default:
		return TableKey
	}
}
