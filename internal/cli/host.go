package cli

import (
	"errors"
	"strings"

	"github.com/berth-project/berth/client"
)

// ResolveHost picks the daemon address: the -H flag, then BERTH_HOST, then DOCKER_HOST, then
// client.DefaultHost.
func ResolveHost(flagHosts []string, getenv func(string) string) (string, error) {
	switch len(flagHosts) {
	case 0:
	case 1:
		return validHost(flagHosts[0])
	default:
		return "", errors.New("Specify only one -H")
	}
	for _, env := range []string{"BERTH_HOST", "DOCKER_HOST"} {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			return validHost(v)
		}
	}
	return client.DefaultHost, nil
}

func validHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return client.DefaultHost, nil
	}
	if _, _, _, err := client.ParseHost(h); err != nil {
		return "", err
	}
	return h, nil
}
