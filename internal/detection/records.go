package detection

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/markwatch/markwatch/internal/domain"
)

// Record is one raw message of a JSONL file or JSON array, with its
// position for error messages: the line number in a JSONL file, the
// element number (from 1) in an array.
type Record struct {
	Line int
	Data []byte
	// Err is set when the record could not be read at all (a line over the
	// size cap, a broken array); the iteration goes on when it can.
	Err error
}

// Records yields the records of r, which holds either one JSON object per
// line (blank lines and lines starting with # are skipped) or one JSON
// array of objects. maxBytes caps one record.
func Records(r io.Reader, maxBytes int) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		first, err := peekNonSpace(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				yield(Record{Line: 1, Err: err})
			}
			return
		}
		if first == '[' {
			arrayRecords(br, maxBytes, yield)
			return
		}
		lineRecords(br, maxBytes, yield)
	}
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF: // whitespace and a UTF-8 BOM
			continue
		}
		return b, br.UnreadByte()
	}
}

func lineRecords(br *bufio.Reader, maxBytes int, yield func(Record) bool) {
	line := 0
	for {
		line++
		data, tooLong, err := readLine(br, maxBytes)
		if len(data) == 0 && errors.Is(err, io.EOF) && !tooLong {
			return
		}
		if err != nil && !errors.Is(err, io.EOF) {
			yield(Record{Line: line, Err: fmt.Errorf("read: %w", err)})
			return
		}
		trimmed := bytes.TrimSpace(data)
		switch {
		case tooLong:
			if !yield(Record{Line: line, Err: fmt.Errorf("line is over the %d-byte cap", maxBytes)}) {
				return
			}
		case len(trimmed) == 0 || trimmed[0] == '#':
		default:
			if !yield(Record{Line: line, Data: trimmed}) {
				return
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
	}
}

// readLine reads one line, keeping at most maxBytes of it; tooLong reports
// that the line was longer and its rest was discarded.
func readLine(br *bufio.Reader, maxBytes int) (data []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(data)+len(chunk) > maxBytes {
			tooLong = true
		} else {
			data = append(data, chunk...)
		}
		if err != nil || !isPrefix {
			if tooLong {
				data = nil
			}
			return data, tooLong, err
		}
	}
}

func arrayRecords(br *bufio.Reader, maxBytes int, yield func(Record) bool) {
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil { // the opening '['
		yield(Record{Line: 1, Err: fmt.Errorf("read JSON array: %w", err)})
		return
	}
	for n := 1; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// A syntax error leaves the decoder unusable: report and stop.
			yield(Record{Line: n, Err: fmt.Errorf("element %d: %w", n, err)})
			return
		}
		if len(raw) > maxBytes {
			if !yield(Record{Line: n, Err: fmt.Errorf("element is over the %d-byte cap", maxBytes)}) {
				return
			}
			continue
		}
		if !yield(Record{Line: n, Data: raw}) {
			return
		}
	}
}

// ReadMarks reads every mark of a JSONL file or JSON array. Marks are
// configuration, so any bad mark is an error naming its line.
func ReadMarks(path string, lim domain.Limits) ([]*domain.Mark, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read marks: %w", err)
	}
	defer f.Close()
	lim = lim.WithDefaults()
	var marks []*domain.Mark
	seen := map[string]int{}
	for rec := range Records(f, lim.MaxMessageBytes) {
		if rec.Err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, rec.Line, rec.Err)
		}
		m, err := domain.DecodeMark(rec.Data, lim)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, rec.Line, err)
		}
		if prev, dup := seen[m.MarkID]; dup {
			return nil, fmt.Errorf("%s:%d: mark_id %q already defined on line %d", path, rec.Line, m.MarkID, prev)
		}
		seen[m.MarkID] = rec.Line
		marks = append(marks, m)
	}
	return marks, nil
}
