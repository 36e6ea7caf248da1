package opts

import (
	"encoding/csv"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// NetworkAttachment is one --network flag: a network and, in the long syntax, the options of the
// container's endpoint on it.
type NetworkAttachment struct {
	Target       string
	Aliases      []string
	DriverOpts   map[string]string
	Links        []string
	IPv4Address  string
	IPv6Address  string
	LinkLocalIPs []string
	MacAddress   string
	GwPriority   int
}

// Networks collects --network flags: a network name or ID, or comma-separated fields
// "name=net,alias=a,ip=10.0.0.5,ip6=..,mac-address=..,link-local-ip=..,driver-opt=k=v,gw-priority=1".
type Networks struct {
	values []NetworkAttachment
}

var longNetworkSyntax = regexp.MustCompile(`\w+=\w+(,\w+=\w+)*`)

// Set parses one --network value.
func (n *Networks) Set(v string) error {
	if !longNetworkSyntax.MatchString(v) {
		n.values = append(n.values, NetworkAttachment{Target: v})
		return nil
	}
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	if err != nil {
		return err
	}
	var a NetworkAttachment
	for _, field := range fields {
		key, val, ok := strings.Cut(field, "=")
		if !ok || key == "" {
			return fmt.Errorf("invalid field %s", field)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		switch key {
		case "name":
			a.Target = val
		case "alias":
			a.Aliases = append(a.Aliases, val)
		case "ip":
			a.IPv4Address = val
		case "ip6":
			a.IPv6Address = val
		case "mac-address":
			a.MacAddress = val
		case "link-local-ip":
			a.LinkLocalIPs = append(a.LinkLocalIPs, val)
		case "driver-opt":
			dk, dv, ok := strings.Cut(val, "=")
			if !ok || dk == "" {
				return fmt.Errorf("invalid key value pair format in driver options")
			}
			if a.DriverOpts == nil {
				a.DriverOpts = map[string]string{}
			}
			a.DriverOpts[strings.ToLower(strings.TrimSpace(dk))] = strings.TrimSpace(dv)
		case "gw-priority":
			p, err := strconv.Atoi(val)
			if err != nil {
				return fmt.Errorf("invalid gw-priority: %w", err)
			}
			a.GwPriority = p
		default:
			return errors.New("invalid field key " + key)
		}
	}
	if a.Target == "" {
		return errors.New("network name/id is not specified")
	}
	n.values = append(n.values, a)
	return nil
}

func (n *Networks) String() string {
	var out []string
	for _, a := range n.values {
		out = append(out, a.Target)
	}
	return strings.Join(out, ", ")
}

// Type is the name shown in help.
func (n *Networks) Type() string { return "network" }

// Values returns the attachments in the order given.
func (n *Networks) Values() []NetworkAttachment { return append([]NetworkAttachment(nil), n.values...) }

// NetworkMode is the first network given, or "".
func (n *Networks) NetworkMode() string {
	if len(n.values) == 0 {
		return ""
	}
	return n.values[0].Target
}
