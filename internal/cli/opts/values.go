package opts

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
)

// Map is a repeatable key=value flag collected into a map (--sysctl, --annotation).
type Map struct {
	values   map[string]string
	validate func(string) (string, error)
}

// NewMap returns an empty Map; validate (optional) checks and normalizes each value.
func NewMap(validate func(string) (string, error)) *Map {
	return &Map{values: map[string]string{}, validate: validate}
}

// Set adds one key=value (a value without "=" sets the key to "").
func (m *Map) Set(v string) error {
	if m.validate != nil {
		n, err := m.validate(v)
		if err != nil {
			return err
		}
		v = n
	}
	k, val, _ := strings.Cut(v, "=")
	m.values[k] = val
	return nil
}

func (m *Map) String() string { return fmt.Sprintf("%v", m.values) }

// Type is the name shown in help.
func (m *Map) Type() string { return "map" }

// Values returns a copy of the map (nil when empty).
func (m *Map) Values() map[string]string {
	if len(m.values) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.values))
	for k, v := range m.values {
		out[k] = v
	}
	return out
}

// MemBytes is a size in bytes given with an optional unit: 512, 64m, 1.5g (binary units).
type MemBytes int64

// Set parses a size.
func (m *MemBytes) Set(v string) error {
	n, err := units.RAMInBytes(v)
	if err != nil {
		return err
	}
	*m = MemBytes(n)
	return nil
}

// String hides the zero value from help, as pflag shows any default but "0".
func (m *MemBytes) String() string {
	if *m == 0 {
		return "0"
	}
	return units.BytesSize(float64(*m))
}

// Type is the name shown in help.
func (m *MemBytes) Type() string { return "bytes" }

// Value is the size in bytes.
func (m *MemBytes) Value() int64 { return int64(*m) }

// MemSwapBytes is MemBytes that also takes -1 (unlimited).
type MemSwapBytes int64

// Set parses a size or -1.
func (m *MemSwapBytes) Set(v string) error {
	if v == "-1" {
		*m = -1
		return nil
	}
	n, err := units.RAMInBytes(v)
	if err != nil {
		return err
	}
	*m = MemSwapBytes(n)
	return nil
}

func (m *MemSwapBytes) String() string {
	switch *m {
	case 0:
		return "0"
	case -1:
		return "-1"
	}
	return units.BytesSize(float64(*m))
}

// Type is the name shown in help.
func (m *MemSwapBytes) Type() string { return "bytes" }

// Value is the size in bytes, or -1.
func (m *MemSwapBytes) Value() int64 { return int64(*m) }

// NanoCPUs is a number of CPUs given as a decimal ("1.5"), kept in billionths of a CPU.
type NanoCPUs int64

// Set parses a decimal number of CPUs.
func (c *NanoCPUs) Set(v string) error {
	r, ok := new(big.Rat).SetString(v)
	if !ok {
		return fmt.Errorf("failed to parse %v as a rational number", v)
	}
	r.Mul(r, big.NewRat(1e9, 1))
	if !r.IsInt() {
		return fmt.Errorf("value is too precise")
	}
	if !r.Num().IsInt64() {
		return fmt.Errorf("value is too large")
	}
	*c = NanoCPUs(r.Num().Int64())
	return nil
}

func (c *NanoCPUs) String() string {
	if *c == 0 {
		return ""
	}
	return big.NewRat(int64(*c), 1e9).FloatString(3)
}

// Type is the name shown in help.
func (c *NanoCPUs) Type() string { return "decimal" }

// Value is the number of CPUs in billionths.
func (c *NanoCPUs) Value() int64 { return int64(*c) }

// Ulimits collects --ulimit name=soft[:hard] flags; a later value for a name replaces an
// earlier one.
type Ulimits struct {
	values map[string]*container.Ulimit
}

// NewUlimits returns an empty Ulimits.
func NewUlimits() *Ulimits { return &Ulimits{values: map[string]*container.Ulimit{}} }

// Set parses one ulimit.
func (u *Ulimits) Set(v string) error {
	l, err := units.ParseUlimit(v)
	if err != nil {
		return err
	}
	u.values[l.Name] = l
	return nil
}

func (u *Ulimits) String() string {
	var out []string
	for _, l := range u.Values() {
		out = append(out, l.String())
	}
	return fmt.Sprintf("%v", out)
}

// Type is the name shown in help.
func (u *Ulimits) Type() string { return "ulimit" }

// Values returns the ulimits sorted by name.
func (u *Ulimits) Values() []*container.Ulimit {
	names := make([]string, 0, len(u.values))
	for n := range u.values {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*container.Ulimit, 0, len(names))
	for _, n := range names {
		out = append(out, u.values[n])
	}
	return out
}

// ThrottleDevices collects device-path:rate flags (--device-read-bps and friends).
type ThrottleDevices struct {
	values []*blkiodev.ThrottleDevice
	parse  func(string) (*blkiodev.ThrottleDevice, error)
}

// NewThrottleBps takes rates in bytes per second with an optional unit (kb, mb, gb).
func NewThrottleBps() *ThrottleDevices { return &ThrottleDevices{parse: parseThrottleBps} }

// NewThrottleIOps takes rates in operations per second.
func NewThrottleIOps() *ThrottleDevices { return &ThrottleDevices{parse: parseThrottleIOps} }

// Set adds one device rate.
func (t *ThrottleDevices) Set(v string) error {
	d, err := t.parse(v)
	if err != nil {
		return err
	}
	t.values = append(t.values, d)
	return nil
}

func (t *ThrottleDevices) String() string {
	var out []string
	for _, d := range t.values {
		out = append(out, d.String())
	}
	return fmt.Sprintf("%v", out)
}

// Type is the name shown in help.
func (t *ThrottleDevices) Type() string { return "list" }

// Values returns the device rates in the order given.
func (t *ThrottleDevices) Values() []*blkiodev.ThrottleDevice {
	return append([]*blkiodev.ThrottleDevice(nil), t.values...)
}

func splitDevice(v string) (path, rest string, err error) {
	path, rest, ok := strings.Cut(v, ":")
	if !ok || strings.Contains(rest, ":") || !strings.HasPrefix(path, "/dev/") {
		return "", "", fmt.Errorf("bad format: %s", v)
	}
	return path, rest, nil
}

func parseThrottleBps(v string) (*blkiodev.ThrottleDevice, error) {
	path, rate, err := splitDevice(v)
	if err != nil {
		return nil, err
	}
	n, err := units.RAMInBytes(rate)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("invalid rate for device: %s. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb", v)
	}
	return &blkiodev.ThrottleDevice{Path: path, Rate: uint64(n)}, nil
}

func parseThrottleIOps(v string) (*blkiodev.ThrottleDevice, error) {
	path, rate, err := splitDevice(v)
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseUint(rate, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("invalid rate for device: %s. The correct format is <device-path>:<number>. Number must be a positive integer", v)
	}
	return &blkiodev.ThrottleDevice{Path: path, Rate: n}, nil
}

// WeightDevices collects --blkio-weight-device device-path:weight flags.
type WeightDevices struct {
	values []*blkiodev.WeightDevice
}

// Set adds one device weight (10 to 1000, or 0).
func (w *WeightDevices) Set(v string) error {
	path, weight, err := splitDevice(v)
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(weight, 10, 16)
	if err != nil || (n > 0 && (n < 10 || n > 1000)) {
		return fmt.Errorf("invalid weight for device: %s", v)
	}
	w.values = append(w.values, &blkiodev.WeightDevice{Path: path, Weight: uint16(n)})
	return nil
}

func (w *WeightDevices) String() string {
	var out []string
	for _, d := range w.values {
		out = append(out, d.String())
	}
	return fmt.Sprintf("%v", out)
}

// Type is the name shown in help.
func (w *WeightDevices) Type() string { return "list" }

// Values returns the device weights in the order given.
func (w *WeightDevices) Values() []*blkiodev.WeightDevice {
	return append([]*blkiodev.WeightDevice(nil), w.values...)
}
