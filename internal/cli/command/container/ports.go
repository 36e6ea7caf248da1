package container

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/network"
)

// portMapping is one container port and how it is published.
type portMapping struct {
	port    network.Port
	binding network.PortBinding
}

// parsePortRange reads "80" or "8000-8010".
func parsePortRange(s string) (start, end uint16, err error) {
	if s == "" {
		return 0, 0, errors.New("empty string specified for ports")
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
			return 0, 0, err
		}
		if b < a {
			return 0, 0, fmt.Errorf("invalid range specified for port: %s", s)
		}
	}
	return uint16(a), uint16(b), nil
}

func validProto(p string) bool {
	switch network.IPProtocol(p) {
	case network.TCP, network.UDP, network.SCTP:
		return true
	}
	return false
}

// splitPublishSpec splits "[ip:][hostPort:]containerPort" (the IP may itself hold colons).
func splitPublishSpec(spec string) (ip, hostPort, containerPort string) {
	parts := strings.Split(spec, ":")
	n := len(parts)
	switch n {
	case 1:
		return "", "", parts[0]
	case 2:
		return "", parts[0], parts[1]
	case 3:
		return parts[0], parts[1], parts[2]
	default:
		return strings.Join(parts[:n-2], ":"), parts[n-2], parts[n-1]
	}
}

// parsePublish reads one -p value: [ip:][hostPort:]containerPort[/proto], where the ports may
// be ranges of the same length, or a host range for a single container port (the daemon picks
// a free port in it).
func parsePublish(spec string) ([]portMapping, error) {
	ip, hostPort, containerPort := splitPublishSpec(spec)
	containerPort, proto, _ := strings.Cut(containerPort, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)

	var hostIP netip.Addr
	if ip != "" {
		if ip[0] == '[' {
			host, _, err := net.SplitHostPort(ip + ":")
			if err != nil {
				return nil, fmt.Errorf("invalid IP address %v: %w", ip, err)
			}
			ip = host
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, errors.New("invalid IP address: " + ip)
		}
		hostIP = a
	}
	if containerPort == "" {
		return nil, fmt.Errorf("no port specified: %s<empty>", spec)
	}
	start, end, err := parsePortRange(containerPort)
	if err != nil {
		return nil, errors.New("invalid containerPort: " + containerPort)
	}
	var hostStart, hostEnd uint16
	if hostPort != "" {
		if hostStart, hostEnd, err = parsePortRange(hostPort); err != nil {
			return nil, errors.New("invalid hostPort: " + hostPort)
		}
		if end-start != hostEnd-hostStart && start != end {
			return nil, fmt.Errorf("invalid ranges specified for container and host Ports: %s and %s", containerPort, hostPort)
		}
	}
	if !validProto(proto) {
		return nil, errors.New("invalid proto: " + proto)
	}
	var out []portMapping
	for i := 0; i <= int(end-start); i++ {
		p, _ := network.PortFrom(start+uint16(i), network.IPProtocol(proto))
		hp := ""
		switch {
		case hostPort == "":
		case start == end && hostStart != hostEnd:
			hp = fmt.Sprintf("%d-%d", hostStart, hostEnd)
		default:
			hp = strconv.Itoa(int(hostStart) + i)
		}
		out = append(out, portMapping{port: p, binding: network.PortBinding{HostIP: hostIP, HostPort: hp}})
	}
	return out, nil
}

// longPublishSyntax converts "published=8080,target=80,protocol=udp,mode=host" to the short
// syntax; other values pass unchanged.
func longPublishSyntax(v string) (string, error) {
	if !strings.Contains(v, "=") {
		return v, nil
	}
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	if err != nil {
		return "", err
	}
	var published, target, proto, hostIP string
	for _, f := range fields {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			return "", fmt.Errorf("invalid field %s", f)
		}
		switch strings.ToLower(k) {
		case "published":
			published = val
		case "target":
			target = val
		case "protocol":
			proto = val
		case "mode":
			if val != "host" && val != "ingress" {
				return "", fmt.Errorf("invalid publish mode value %s", val)
			}
		case "host-ip", "host_ip":
			hostIP = val
		default:
			return "", fmt.Errorf("invalid field key %s", k)
		}
	}
	if target == "" {
		return "", errors.New("missing mandatory field \"target\"")
	}
	s := target
	if proto != "" {
		s += "/" + proto
	}
	if published != "" || hostIP != "" {
		s = published + ":" + s
	}
	if hostIP != "" {
		if strings.Contains(hostIP, ":") && !strings.HasPrefix(hostIP, "[") {
			hostIP = "[" + hostIP + "]"
		}
		s = hostIP + ":" + s
	}
	return s, nil
}

// parsePorts turns -p and --expose values into the exposed port set and the port bindings.
func parsePorts(publish, expose []string) (network.PortSet, network.PortMap, error) {
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, raw := range publish {
		spec, err := longPublishSyntax(raw)
		if err != nil {
			return nil, nil, err
		}
		mappings, err := parsePublish(spec)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range mappings {
			exposed[m.port] = struct{}{}
			bindings[m.port] = append(bindings[m.port], m.binding)
		}
	}
	for _, e := range expose {
		if strings.Contains(e, ":") {
			return nil, nil, fmt.Errorf("invalid port format for --expose: %s", e)
		}
		portStr, proto, _ := strings.Cut(e, "/")
		if proto == "" {
			proto = "tcp"
		}
		start, end, err := parsePortRange(portStr)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid range format for --expose: %s, error: %w", e, err)
		}
		if !validProto(strings.ToLower(proto)) {
			return nil, nil, errors.New("invalid proto: " + proto)
		}
		for p := int(start); p <= int(end); p++ {
			port, _ := network.PortFrom(uint16(p), network.IPProtocol(strings.ToLower(proto)))
			exposed[port] = struct{}{}
		}
	}
	if len(exposed) == 0 {
		exposed = nil
	}
	if len(bindings) == 0 {
		bindings = nil
	}
	return exposed, bindings, nil
}
