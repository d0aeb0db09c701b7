package mt_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/mt"
)

func ExampleMask() {
	m := mt.Mask("_Open “%s” in {app}?\n", mt.MaskOptions{Accelerators: mt.DefaultAccelerators})
	fmt.Printf("%q\n", m.Text)
	// A model's output (one sentinel written with spaces).
	fmt.Printf("%q\n", m.Unmask("Abrir «⟦ 0 ⟧» en ⟦1⟧?").Text)
	// A model that dropped a sentinel: it is put back, and the repair said.
	r := m.Unmask("Abrir en ⟦1⟧?")
	fmt.Printf("%q %q\n", r.Text, r.Problems)
	// Output:
	// "Open “⟦0⟧” in ⟦1⟧?"
	// "_Abrir «%s» en {app}?\n"
	// "_Abrir en {app} %s?\n" ["put back missing \"%s\""]
}

func ExampleFillPO() {
	po := `msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"

msgid "_Save"
msgstr ""

#, c-format
msgid "%d file"
msgid_plural "%d files"
msgstr[0] ""
msgstr[1] ""
`
	f, _ := data.ParsePO([]byte(po), "app.pot")
	// A toy model that knows three words.
	words := map[string]string{"Save": "Gardar", "file": "ficheiro", "files": "ficheiros"}
	toy := mt.TranslatorFunc(func(ctx context.Context, texts []string, from, to string) ([]string, error) {
		out := make([]string, len(texts))
		for i, s := range texts {
			w := strings.Fields(s)
			for j := range w {
				if t, ok := words[w[j]]; ok {
					w[j] = t
				}
			}
			out[i] = strings.Join(w, " ")
		}
		return out, nil
	})
	g, rep, err := mt.FillPO(context.Background(), f, toy, mt.FillOptions{To: "gl"})
	if err != nil {
		fmt.Println(err)
		return
	}
	data.WritePO(os.Stdout, &data.POFile{Entries: g.Entries[1:]})
	fmt.Printf("%+v\n", rep)
	// Output:
	// #, fuzzy
	// msgid "_Save"
	// msgstr "_Gardar"
	//
	// #, fuzzy, c-format
	// msgid "%d file"
	// msgid_plural "%d files"
	// msgstr[0] "%d ficheiro"
	// msgstr[1] "%d ficheiros"
	// {Entries:2 Translated:0 Filled:2 Copied:0 Repaired:0 Texts:3}
}
