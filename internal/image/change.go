package image

import (
	"encoding/json"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// applyChanges applies `import --change` / `commit --change` Dockerfile instructions to cfg.
func applyChanges(cfg *Config, changes []string) error {
	c := &cfg.Config
	for _, line := range changes {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "CMD":
			c.Cmd = commandForm(rest)
		case "ENTRYPOINT":
			c.Entrypoint = commandForm(rest)
		case "ENV":
			pairs, err := keyValues(rest, true)
			if err != nil {
				return errdefs.InvalidArgumentf("invalid change %q: %v", line, err)
			}
			for _, kv := range pairs {
				c.Env = setEnv(c.Env, kv[0], kv[1])
			}
		case "LABEL":
			pairs, err := keyValues(rest, false)
			if err != nil {
				return errdefs.InvalidArgumentf("invalid change %q: %v", line, err)
			}
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			for _, kv := range pairs {
				c.Labels[kv[0]] = kv[1]
			}
		case "EXPOSE":
			if c.ExposedPorts == nil {
				c.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range strings.Fields(rest) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				c.ExposedPorts[p] = struct{}{}
			}
		case "VOLUME":
			if c.Volumes == nil {
				c.Volumes = map[string]struct{}{}
			}
			var vols []string
			if json.Unmarshal([]byte(rest), &vols) != nil {
				vols = strings.Fields(rest)
			}
			for _, v := range vols {
				c.Volumes[v] = struct{}{}
			}
		case "USER":
			c.User = rest
		case "WORKDIR":
			c.WorkingDir = rest
		case "STOPSIGNAL":
			c.StopSignal = rest
		case "ONBUILD":
			c.OnBuild = append(c.OnBuild, rest)
		default:
			return errdefs.InvalidArgumentf("%s is not a valid change command", instr)
		}
	}
	return nil
}

// commandForm parses the exec (JSON array) or shell form of CMD and ENTRYPOINT.
func commandForm(s string) []string {
	var argv []string
	if strings.HasPrefix(s, "[") && json.Unmarshal([]byte(s), &argv) == nil {
		return argv
	}
	return []string{"/bin/sh", "-c", s}
}

// keyValues parses `k=v k2="v 2"` or, when legacy is allowed, `k v with spaces`.
func keyValues(s string, legacy bool) ([][2]string, error) {
	if s == "" {
		return nil, errdefs.InvalidArgumentf("missing arguments")
	}
	words, err := splitWords(s)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(words[0], "=") {
		if !legacy || len(words) < 2 {
			return nil, errdefs.InvalidArgumentf("expected key=value")
		}
		k, v, _ := strings.Cut(s, " ")
		return [][2]string{{k, strings.TrimSpace(v)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, errdefs.InvalidArgumentf("expected key=value, got %q", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits on blanks, honouring double and single quotes and backslash escapes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errdefs.InvalidArgumentf("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if name, _, _ := strings.Cut(e, "="); name == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}
