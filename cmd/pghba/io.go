package main

// This file is the side inputs (--roles, --hosts, the expectations of
// pghba test), read whole with a limit, and the JSON lines the commands
// write.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxSideInput is the largest side input read whole: a --roles or --hosts
// file, or the expectations of pghba test.
const maxSideInput = 64 << 20

// readLimited reads r to its end, or fails once it has given more than max
// bytes; name names r in that error.
func readLimited(name string, r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	return data, nil
}

// readFileLimited reads the file name, of at most max bytes.
func readFileLimited(name string, max int64) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max) // without reading it
	}
	return readLimited(name, fh, max)
}

// readJSONFile decodes the JSON file name, of at most maxSideInput bytes,
// into v, refusing unknown fields and trailing data.
func readJSONFile(name string, v any) error {
	data, err := readFileLimited(name, maxSideInput)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %s", name, jsonErrorText(err))
	}
	if dec.More() {
		return fmt.Errorf("%s: data after the JSON value", name)
	}
	return nil
}

// jsonErrorText words a decoding error without Go type names.
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "not a JSON object"
		}
		return fmt.Sprintf("%q: wrong type (%s)", te.Field, te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field ") {
		return msg
	}
	return "invalid JSON: " + msg
}

// writeJSONLine writes v as one line of JSON, without HTML escapes.
func writeJSONLine(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // cannot fail for these types; write errors surface at flush
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
