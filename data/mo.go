package data

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// moMagic is the .mo magic number as a little-endian uint32.
const moMagic = 0x950412de

// ReadMO reads a compiled gettext catalogue (.mo).
func ReadMO(path string) (*POFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseMO(b, path)
}

// ParseMO parses a .mo file of either byte order into entries: the
// original string "msgctxt\x04msgid\x00msgid_plural" gives Context, ID
// and IDPlural, the translation "msgstr[0]\x00msgstr[1]..." gives Str.
// The header (msgid "") is kept as an entry. Errors name the file, the
// entry and what is wrong (bad magic, major revision > 1, tables or
// strings outside the file, invalid UTF-8, a plural original whose
// translation is not plural).
func ParseMO(b []byte, name string) (*POFile, error) {
	bad := func(format string, args ...any) error { return parseErr(name, 0, format, args...) }
	if len(b) < 28 {
		return nil, bad("%d bytes, too short for a .mo header (28)", len(b))
	}
	var bo binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(b) == moMagic:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint32(b) == moMagic:
		bo = binary.BigEndian
	default:
		return nil, bad("not a .mo file (magic %08x)", binary.LittleEndian.Uint32(b))
	}
	rev := bo.Uint32(b[4:])
	if rev>>16 > 1 {
		return nil, bad("revision %d.%d, want major revision 0 or 1", rev>>16, rev&0xffff)
	}
	n := uint64(bo.Uint32(b[8:]))
	origOff, transOff := uint64(bo.Uint32(b[12:])), uint64(bo.Uint32(b[16:]))
	size := uint64(len(b))
	if n*8 > size || origOff+n*8 > size || transOff+n*8 > size {
		return nil, bad("%d entries: the string tables (at %d and %d) do not fit in %d bytes", n, origOff, transOff, size)
	}
	str := func(table uint64, i uint64, what string) (string, error) {
		e := table + 8*i
		l, off := uint64(bo.Uint32(b[e:])), uint64(bo.Uint32(b[e+4:]))
		if off+l > size {
			return "", bad("entry %d: %s string (offset %d, length %d) past the end of the file (%d bytes)", i, what, off, l, size)
		}
		s := b[off : off+l]
		if !utf8.Valid(s) {
			return "", bad("entry %d: %s string is not valid UTF-8", i, what)
		}
		return string(s), nil
	}
	f := &POFile{Entries: make([]POEntry, 0, n)}
	for i := uint64(0); i < n; i++ {
		o, err := str(origOff, i, "original")
		if err != nil {
			return nil, err
		}
		t, err := str(transOff, i, "translation")
		if err != nil {
			return nil, err
		}
		var e POEntry
		if c, id, ok := strings.Cut(o, "\x04"); ok {
			e.Context, e.HasContext, o = c, true, id
		}
		id, plural, isPlural := strings.Cut(o, "\x00")
		e.ID = id
		if isPlural {
			if strings.Contains(plural, "\x00") {
				return nil, bad("entry %d: original has more than one plural form", i)
			}
			e.IDPlural, e.HasPlural = plural, true
			e.Str = strings.Split(t, "\x00")
		} else {
			if strings.Contains(t, "\x00") {
				return nil, bad("entry %d (%q): plural translation for a singular original", i, truncate(id))
			}
			e.Str = []string{t}
		}
		f.Entries = append(f.Entries, e)
	}
	return f, nil
}

// WriteMO compiles the catalogue's non-obsolete, non-fuzzy translated
// entries (and the header) into a .mo file in byte order bo, sorted by
// original string as gettext requires, without a hash table.
func WriteMO(w io.Writer, f *POFile, bo binary.ByteOrder) error {
	type kv struct{ k, v string }
	var es []kv
	for i := range f.Entries {
		e := &f.Entries[i]
		if e.Obsolete || e.Fuzzy() && !e.IsHeader() || len(e.Str) == 0 || (!e.Translated() && !e.IsHeader()) {
			continue
		}
		k := e.ID
		if e.HasPlural {
			k += "\x00" + e.IDPlural
		}
		if e.HasContext {
			k = e.Context + "\x04" + k
		}
		es = append(es, kv{k, strings.Join(e.Str, "\x00")})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].k < es[j].k })
	n := uint32(len(es))
	origOff := uint32(28)
	transOff := origOff + 8*n
	dataOff := transOff + 8*n
	var hdr, tables, data bytes.Buffer
	for _, v := range []uint32{moMagic, 0, n, origOff, transOff, 0, dataOff} {
		binary.Write(&hdr, bo, v)
	}
	orig := make([]uint32, 0, 2*n)
	trans := make([]uint32, 0, 2*n)
	for _, e := range es {
		orig = append(orig, uint32(len(e.k)), dataOff+uint32(data.Len()))
		data.WriteString(e.k)
		data.WriteByte(0)
	}
	for _, e := range es {
		trans = append(trans, uint32(len(e.v)), dataOff+uint32(data.Len()))
		data.WriteString(e.v)
		data.WriteByte(0)
	}
	binary.Write(&tables, bo, orig)
	binary.Write(&tables, bo, trans)
	for _, b := range [][]byte{hdr.Bytes(), tables.Bytes(), data.Bytes()} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
