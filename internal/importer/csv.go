package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// MaxFileSize bounds a CSV file read into memory.
const MaxFileSize = 256 << 20

// MaxRows bounds the rows of one CSV file.
const MaxRows = 1_000_000

// Table is a CSV file read into memory: its header and its rows, each with
// the line it starts on (quoted fields can span lines).
type Table struct {
	Header []string
	Rows   []Row
	// Encoding names how the file was decoded: "UTF-8", "UTF-16" or
	// "Windows-1252".
	Encoding string
	// Comma is the separator found in the header line.
	Comma rune
	// Problems are rows that could not be read as CSV (too many fields);
	// they are left out of Rows.
	Problems []RowError
}

// Row is one record of a CSV file.
type Row struct {
	Line   int
	Fields []string
}

// RowError says why one row, or one field of it, cannot be imported.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Reason string `json:"reason"`
}

func (e RowError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, column %q: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// ErrFile is a file that is not a CSV table at all; the message says why.
type ErrFile struct{ Reason string }

func (e *ErrFile) Error() string { return e.Reason }

// ReadCSV reads a CSV file: UTF-8 with or without a byte-order mark,
// UTF-16 with one, or else Windows-1252; separated by commas, semicolons
// or tabs (whichever the header line uses most); fields may be quoted and
// span lines.
func ReadCSV(r io.Reader) (*Table, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, &ErrFile{fmt.Sprintf("The file is larger than %d MB.", MaxFileSize>>20)}
	}
	t := &Table{}
	data, t.Encoding, err = decode(data)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ErrFile{"The file is empty."}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &ErrFile{"The file contains NUL bytes; it is not a text CSV file."}
	}
	t.Comma = sniffComma(data)
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = t.Comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, &ErrFile{fmt.Sprintf("The header line cannot be read: %v.", err)}
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	t.Header = header
	if len(header) < 1 || (len(header) == 1 && header[0] == "") {
		return nil, &ErrFile{"The header line names no columns."}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &ErrFile{fmt.Sprintf("Line %d cannot be read as CSV: %v.", pe.StartLine, pe.Err)}
			}
			return nil, fmt.Errorf("read csv: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) > len(header) {
			extra := rec[len(header):]
			allEmpty := true
			for _, f := range extra {
				allEmpty = allEmpty && strings.TrimSpace(f) == ""
			}
			if !allEmpty {
				t.Problems = append(t.Problems, RowError{Line: line, Reason: fmt.Sprintf(
					"the row has %d fields but the header names %d columns (a stray separator or quote?)", len(rec), len(header))})
				continue
			}
			rec = rec[:len(header)]
		}
		for len(rec) < len(header) {
			rec = append(rec, "")
		}
		t.Rows = append(t.Rows, Row{Line: line, Fields: rec})
		if len(t.Rows) > MaxRows {
			return nil, &ErrFile{fmt.Sprintf("The file has more than %d rows; split it.", MaxRows)}
		}
	}
	return t, nil
}

// decode returns data as UTF-8 without a byte-order mark.
func decode(data []byte) ([]byte, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], "UTF-8", nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, "", &ErrFile{"The file starts like UTF-16 but cannot be decoded."}
		}
		return bytes.TrimPrefix(out, []byte{0xEF, 0xBB, 0xBF}), "UTF-16", nil
	case utf8.Valid(data):
		return data, "UTF-8", nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return nil, "", &ErrFile{"The file is neither UTF-8 nor Windows-1252 text."}
	}
	return out, "Windows-1252", nil
}

// sniffComma picks the separator the header line uses most.
func sniffComma(data []byte) rune {
	inQuote := false
	counts := map[byte]int{}
	for _, c := range data {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best, n := byte(','), counts[',']
	for _, c := range []byte{';', '\t'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// Columns returns the positions of every column with the given name,
// ignoring case and surrounding space; Jira repeats a name (Labels,
// Comment, Sprint) once per value.
func (t *Table) Columns(name string) []int {
	var out []int
	for i, h := range t.Header {
		if strings.EqualFold(h, strings.TrimSpace(name)) {
			out = append(out, i)
		}
	}
	return out
}

// nullStrings are what database dumps write for "no value".
var nullStrings = []string{"NULL", `\N`, "null", "(null)"}

// cleanField trims a field and turns the null strings into "".
func cleanField(s string) string {
	s = strings.TrimSpace(s)
	for _, n := range nullStrings {
		if s == n {
			return ""
		}
	}
	return s
}

// CSVCell makes a value safe for a spreadsheet: a cell that starts like a
// formula (=, +, -, @, tab or carriage return) gets a leading apostrophe,
// so that opening an export never runs what someone typed.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
