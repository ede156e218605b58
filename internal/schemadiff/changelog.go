package schemadiff

import (
	"strings"
)

// Unannounced returns the breaking changes that the "Unreleased" section
// of a Keep a Changelog file (the text between its "## [Unreleased]"
// heading and the next "## " heading) does not name by coordinate in
// backticks, e.g. "- Removed `Query.legacySearch` (deprecated since
// 2025-01)". Safe changes need no entry.
func Unannounced(changes []Change, changelog string) []Change {
	section := unreleased(changelog)
	var out []Change
	for _, c := range changes {
		if c.Class == Breaking && !strings.Contains(section, "`"+c.Coordinate+"`") {
			out = append(out, c)
		}
	}
	return out
}

func unreleased(changelog string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(changelog, "\n") {
		if strings.HasPrefix(line, "## ") {
			heading := strings.ToLower(strings.Trim(strings.TrimSpace(line[3:]), "[]"))
			in = strings.HasPrefix(heading, "unreleased")
			continue
		}
		if in {
			b.WriteString(line)
			b.WriteString("\n")
		}
	}
	return b.String()
}
