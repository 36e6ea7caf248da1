package oci

import (
	"bufio"
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// passwdEntry and groupEntry hold the fields of /etc/passwd and /etc/group
// that user resolution needs.
type passwdEntry struct {
	name     string
	uid, gid uint32
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// colonLines yields the colon-separated fields of each non-blank,
// non-comment line. Malformed numeric fields are the caller's concern.
func colonLines(data []byte, fn func(fields []string)) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
}

// parseID accepts the ids runc accepts: 0 through 2^31-1.
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > math.MaxInt32 {
		return 0, false
	}
	return uint32(n), true
}

func parsePasswd(data []byte) []passwdEntry {
	var out []passwdEntry
	colonLines(data, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		if !ok1 || !ok2 {
			return
		}
		out = append(out, passwdEntry{name: f[0], uid: uid, gid: gid})
	})
	return out
}

func parseGroup(data []byte) []groupEntry {
	var out []groupEntry
	colonLines(data, func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, ok := parseID(f[2])
		if !ok {
			return
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			for _, m := range strings.Split(f[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					g.members = append(g.members, m)
				}
			}
		}
		out = append(out, g)
	})
	return out
}

// ParseUser resolves a docker -u value ("name", "uid", "name:group",
// "uid:gid", or "" for root) against the image's /etc/passwd and /etc/group
// contents, with runc's rules: a numeric user or group needs no entry, a name
// must have one, and supplementary groups (the groups listing the user as a
// member) are only looked up when no group is given explicitly. additional
// holds just those supplementary gids; the spec's AdditionalGids also carry
// the primary gid, which ProcessUser adds.
func ParseUser(user string, passwd, group []byte) (uid, gid uint32, additional []uint32, err error) {
	userArg, groupArg, _ := strings.Cut(user, ":")
	// Only the first two fields count, as in runc.
	groupArg, _, _ = strings.Cut(groupArg, ":")

	numUID, uidIsNum := parseID(userArg)
	matchedName := ""
	found := false
	for _, p := range parsePasswd(passwd) {
		var match bool
		switch {
		case userArg == "":
			match = p.uid == 0 // no -u: the image's default user, root
		case uidIsNum:
			match = p.uid == numUID
		default:
			match = p.name == userArg
		}
		if match {
			uid, gid, matchedName, found = p.uid, p.gid, p.name, true
			break
		}
	}
	if !found && userArg != "" {
		if !uidIsNum {
			return 0, 0, nil, errdefs.InvalidArgumentf("unable to find user %s: no matching entries in passwd file", userArg)
		}
		uid = numUID
	}

	if groupArg == "" && matchedName == "" {
		return uid, gid, nil, nil
	}
	groups := parseGroup(group)
	if groupArg != "" {
		numGID, gidIsNum := parseID(groupArg)
		for _, g := range groups {
			if (gidIsNum && g.gid == numGID) || (!gidIsNum && g.name == groupArg) {
				return uid, g.gid, nil, nil
			}
		}
		if !gidIsNum {
			return 0, 0, nil, errdefs.InvalidArgumentf("unable to find group %s: no matching entries in group file", groupArg)
		}
		return uid, numGID, nil, nil
	}
	for _, g := range groups {
		for _, m := range g.members {
			if m == matchedName {
				additional = append(additional, g.gid)
				break
			}
		}
	}
	return uid, gid, additional, nil
}

// ProcessUser builds the spec user the way docker does: uid and gid from
// ParseUser, then AdditionalGids = primary gid, supplementary groups and the
// --group-add entries (names resolved against group, numbers taken as is).
// It serves both the container's process and exec'd processes.
func ProcessUser(user string, groupAdd []string, passwd, group []byte) (specs.User, error) {
	uid, gid, extra, err := ParseUser(user, passwd, group)
	if err != nil {
		return specs.User{}, err
	}
	u := specs.User{UID: uid, GID: gid}
	seen := map[uint32]bool{}
	add := func(g uint32) {
		if !seen[g] {
			seen[g] = true
			u.AdditionalGids = append(u.AdditionalGids, g)
		}
	}
	add(gid)
	for _, g := range extra {
		add(g)
	}
	if len(groupAdd) > 0 {
		groups := parseGroup(group)
		for _, ga := range groupAdd {
			g, err := resolveGroup(ga, groups)
			if err != nil {
				return specs.User{}, err
			}
			add(g)
		}
	}
	return u, nil
}

func resolveGroup(name string, groups []groupEntry) (uint32, error) {
	num, isNum := parseID(name)
	for _, g := range groups {
		if (isNum && g.gid == num) || (!isNum && g.name == name) {
			return g.gid, nil
		}
	}
	if isNum {
		return num, nil
	}
	return 0, errdefs.InvalidArgumentf("unable to find group %s: no matching entries in group file", name)
}
