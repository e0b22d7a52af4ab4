package cemu

import "strings"

// This file holds PostgreSQL's path tidying (src/port/path.c) for Unix
// paths.

// CanonicalizePath is PostgreSQL's canonicalize_path as of PostgreSQL 15:
// it drops trailing and repeated slashes and "." components, and resolves
// ".." against the component before it; ".." at the root of an absolute
// path is dropped, and leading ".." of a relative path stay. A path that
// becomes empty is "."; an empty path stays empty.
func CanonicalizePath(path string) string {
	if path == "" {
		return ""
	}
	abs := path[0] == '/'
	var parts []string
	for _, c := range strings.Split(path, "/") {
		switch c {
		case "", ".":
		case "..":
			if n := len(parts); n > 0 && parts[n-1] != ".." {
				parts = parts[:n-1]
			} else if !abs {
				parts = append(parts, c)
			}
		default:
			parts = append(parts, c)
		}
	}
	out := strings.Join(parts, "/")
	if abs {
		return "/" + out
	}
	if out == "" {
		return "."
	}
	return out
}

// CanonicalizePathOld is canonicalize_path as PostgreSQL 13 and 14 have
// it: trailing slashes (but a leading one) and repeated slashes go, and
// then only trailing "." and ".." components are resolved, each ".."
// removing one component before it; "." and ".." inside the path stay. When
// more ".." remain than components, the result is that many "..".
func CanonicalizePathOld(p string) string {
	// Trailing separators, except a leading one.
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	// Duplicate adjacent separators.
	var b strings.Builder
	was := false
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && was {
			continue
		}
		was = p[i] == '/'
		b.WriteByte(p[i])
	}
	p = b.String()
	pending := 0
	for {
		switch {
		case len(p) >= 2 && strings.HasSuffix(p, "/."):
			p = TrimDirectory(p)
		case p == ".":
			if pending > 0 {
				p = ""
			}
			goto done
		case len(p) >= 3 && strings.HasSuffix(p, "/..") || p == "..":
			p = TrimDirectory(p)
			pending++
		case pending > 0 && p != "":
			p = TrimDirectory(p)
			pending--
			if p == "" {
				p = "."
			}
		default:
			goto done
		}
	}
done:
	if pending > 0 {
		for ; pending > 1; pending-- {
			p += "../"
		}
		p += ".."
	}
	return p
}

// TrimDirectory is PostgreSQL's trim_directory: it removes the last path
// component and the slashes before it, keeping a leading slash, so
// "/a/b" is "/a", "/a" is "/" and "a" is "".
func TrimDirectory(p string) string {
	if p == "" {
		return p
	}
	i := len(p) - 1
	for i > 0 && p[i] == '/' {
		i--
	}
	for i > 0 && p[i] != '/' {
		i--
	}
	for i > 0 && p[i-1] == '/' {
		i--
	}
	if i == 0 && p[0] == '/' {
		i = 1
	}
	return p[:i]
}
