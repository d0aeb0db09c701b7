package data

import (
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// RemoteFile is one file of a known dataset: where it lives under the data
// folder, where to download it, and how to recognise it.
type RemoteFile struct {
	Path string // relative to the data folder
	URL  string // official download (empty: obtain by hand, see Dataset.Obtain)
	// MD5 is the official checksum of the file as published (the one
	// torchvision and the dataset authors list), if any.
	MD5 string
	// SHA256 is the checksum of the file as we verified it.
	SHA256 string
	// ContentSHA256, for .gz files, is the checksum of the decompressed
	// payload, so a re-compressed copy (e.g. a distribution package)
	// verifies too.
	ContentSHA256 string
}

// KnownDataset describes a dataset metalearn reads.
type KnownDataset struct {
	Name, Description, Licence string
	// Obtain says how to get the files when they cannot be downloaded.
	Obtain string
	Files  []RemoteFile
	// Alt is an alternative file set that serves the same purpose
	// (Omniglot: the npz re-packing instead of the official zips).
	Alt []RemoteFile
}

// Gettable reports whether every file has a download URL.
func (d KnownDataset) Gettable() bool {
	for _, f := range d.Files {
		if f.URL == "" {
			return false
		}
	}
	return len(d.Files) > 0
}

const (
	omniglotURL = "https://github.com/brendenlake/omniglot/raw/master/python/"
	vinyalsURL  = "https://raw.githubusercontent.com/jakesnell/prototypical-networks/master/data/omniglot/splits/vinyals/"
	mnistURL    = "https://ossci-datasets.s3.amazonaws.com/mnist/"
	fashionURL  = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
)

// Datasets lists the datasets metalearn knows, with the official sources.
var Datasets = []KnownDataset{
	{
		Name: "omniglot", Description: "1,623 handwritten characters x 20 drawers (Lake et al.), with the Vinyals split", Licence: "MIT",
		Obtain: "the official zips from " + omniglotURL + " and the split files from " + vinyalsURL,
		Files: []RemoteFile{
			{Path: "omniglot/images_background.zip", URL: omniglotURL + "images_background.zip", MD5: "68d2efa1b9178cc56df9314c21c6e718"},
			{Path: "omniglot/images_evaluation.zip", URL: omniglotURL + "images_evaluation.zip", MD5: "6b91aef0f799c5bb55b94e3f2daec811"},
			{Path: "omniglot/splits_vinyals/train.txt", URL: vinyalsURL + "train.txt", SHA256: "984522c194c30fb678ce53304a160a42faf5403ad4f9a67010f32dd3a35738e0"},
			{Path: "omniglot/splits_vinyals/val.txt", URL: vinyalsURL + "val.txt", SHA256: "11f99e54faee3e26f53d3231c1cceac5bf7b8730e9be31cb6dab256551dc0c1a"},
			{Path: "omniglot/splits_vinyals/test.txt", URL: vinyalsURL + "test.txt", SHA256: "845264cc5c156180828ccf17915668b17ee21424d0170df6e7d81676aa5d1204"},
		},
		Alt: []RemoteFile{
			{Path: "omniglot/images_background.npz", SHA256: "8bf84167413cd00beacdce3fe582f780ab538d8dbef043a6d688f2527bbce199"},
			{Path: "omniglot/images_evaluation.npz", SHA256: "0b84c7ffd94c4841c0040e529c86a82eaaccb986d8eadad5673f7991b7475276"},
			{Path: "omniglot/alphabets.tsv", SHA256: "b4ea8238753d3e99637c1e6ea585144696f95562133a6e9aafe1fc64b4b1dcf8"},
		},
	},
	{
		Name: "mnist", Description: "MNIST handwritten digits, 60k/10k, 28x28 (IDX)", Licence: "CC BY-SA 3.0 (LeCun, Cortes, Burges)",
		Obtain: "the four IDX .gz files from " + mnistURL,
		Files: []RemoteFile{
			{Path: "mnist/train-images-idx3-ubyte.gz", URL: mnistURL + "train-images-idx3-ubyte.gz", MD5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", ContentSHA256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
			{Path: "mnist/train-labels-idx1-ubyte.gz", URL: mnistURL + "train-labels-idx1-ubyte.gz", MD5: "d53e105ee54ea40749a09fcbcd1e9432", ContentSHA256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
			{Path: "mnist/t10k-images-idx3-ubyte.gz", URL: mnistURL + "t10k-images-idx3-ubyte.gz", MD5: "9fb629c4189551a2d022fa330f9573f3", ContentSHA256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
			{Path: "mnist/t10k-labels-idx1-ubyte.gz", URL: mnistURL + "t10k-labels-idx1-ubyte.gz", MD5: "ec29112dd5afa0611ce80d1b7f02629c", ContentSHA256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
		},
	},
	{
		Name: "fashion-mnist", Description: "Fashion-MNIST (Zalando), 60k/10k, 28x28 (IDX)", Licence: "MIT",
		Obtain: "the four IDX .gz files from " + fashionURL + " (or Debian's dataset-fashion-mnist package)",
		Files: []RemoteFile{
			{Path: "fashion-mnist/train-images-idx3-ubyte.gz", URL: fashionURL + "train-images-idx3-ubyte.gz", MD5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", ContentSHA256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
			{Path: "fashion-mnist/train-labels-idx1-ubyte.gz", URL: fashionURL + "train-labels-idx1-ubyte.gz", MD5: "25c81989df183df01b3e8a0aad5dffbe", ContentSHA256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
			{Path: "fashion-mnist/t10k-images-idx3-ubyte.gz", URL: fashionURL + "t10k-images-idx3-ubyte.gz", MD5: "bef4ecab320f06d8554ea6380940ec79", ContentSHA256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
			{Path: "fashion-mnist/t10k-labels-idx1-ubyte.gz", URL: fashionURL + "t10k-labels-idx1-ubyte.gz", MD5: "bb300cfdad3c16e7a12a480ee83cd310", ContentSHA256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
		},
	},
	{
		Name: "school", Description: "ILEA school exam scores: 139 schools (tasks), 15,362 students", Licence: "as distributed with the MALSAR toolbox",
		Obtain: "school.mat from the MALSAR toolbox (https://github.com/jiayuzhou/MALSAR, data/school.mat) converted to CSV task,x1..x28,y",
		Files:  []RemoteFile{{Path: "school/school.csv", SHA256: "bc2d4bb2479fff1cb9d0aa0801353c0fa35dee29a0ed6566fcd8799c6725cf70"}},
	},
	{
		Name: "parkinsons", Description: "Parkinson's telemonitoring: 5,875 recordings of 42 patients (tasks)", Licence: "CC BY 4.0 (UCI)",
		Obtain: "parkinsons_updrs.data from https://archive.ics.uci.edu/dataset/189/parkinsons+telemonitoring",
		Files:  []RemoteFile{{Path: "parkinsons-telemonitoring/parkinsons_updrs.data", SHA256: "f2c7d5025dec4e92e7feae367a5f7ccf58789a10ac6b54bdf15976c599f9dd39"}},
	},
	{
		Name: "office-caltech10", Description: "Office-Caltech10 SURF features: 4 domains, 10 classes, 800-d histograms (Gong et al. 2012)", Licence: "research use",
		Obtain: "the SURF features of Gong et al. (2012) converted to CSV label,f0..f799, one file per domain",
		Files: []RemoteFile{
			{Path: "office-caltech10-surf/amazon_SURF_L10.csv", SHA256: "a226dd1f21cf855a3a7c7adae1d895115fd3c66a68c314bcd2b4950c78000fa6"},
			{Path: "office-caltech10-surf/Caltech10_SURF_L10.csv", SHA256: "3d1c8ebaead52f23edad085a9309c63124bc16b4b33f7630c7295881c59bd287"},
			{Path: "office-caltech10-surf/dslr_SURF_L10.csv", SHA256: "3e7d94e7bcd09a7b8a569461f0d03c864da0ce582c7b54fce3be1160d7c358a5"},
			{Path: "office-caltech10-surf/webcam_SURF_L10.csv", SHA256: "6cc7739b3946638f7da64f4b2541f7e8f36cd2851907c357dbf4f299401f54f6"},
		},
	},
	{
		Name: "lo-mt", Description: "LibreOffice 7.4 UI + help strings, English -> de fr es it nl pt gl eu af, multi-way parallel, fixed train/dev/test", Licence: "MPL-2.0 (LibreOffice translations)",
		Obtain: "the lo-mt folder (id<TAB>en<TAB>xx TSV files, README.md, SHA256SUMS; built from Debian 12's libreoffice-l10n-* and libreoffice-help-* 4:7.4.7-1+deb12u14 packages by the rules in its README.md, a rebuild metalearn does not implement yet)",
		Files: []RemoteFile{
			{Path: "lo-mt/README.md", SHA256: "e17910d208aa2fe904fe82623064a0c5b9c246b56b430b11252f0c1fc4a3e5b1"},
			{Path: "lo-mt/dev/en-af.tsv", SHA256: "7a466b41cd784a521a716b5583eccbe80c3516f7933d460eadf96573bc64ad66"},
			{Path: "lo-mt/dev/en-de.tsv", SHA256: "a53f1df085bb45b588ce0994c769bf7e142f7e769f57697813534d1bf3788d97"},
			{Path: "lo-mt/dev/en-es.tsv", SHA256: "735ed3c3f78d045c317c69e8d24994759af71dab8bed3fca0d0ecd75d196a9b7"},
			{Path: "lo-mt/dev/en-eu.tsv", SHA256: "d5d0013b3ad67ccfd55e2af5295d6d60ced8047537eb42042c96e15565e04b4e"},
			{Path: "lo-mt/dev/en-fr.tsv", SHA256: "76a29eb199099813aa181773681ef5732840877a61fb2d7eb1096016b0a0158f"},
			{Path: "lo-mt/dev/en-gl.tsv", SHA256: "b86988ddb07e2ef663e0b1ff4a9069f0cc7fc60910eb77a75d746d78c0ce44af"},
			{Path: "lo-mt/dev/en-it.tsv", SHA256: "9f690cadd6de56660cb70531c56349309e32ebb020d5ea31d6a869bd643ed57c"},
			{Path: "lo-mt/dev/en-nl.tsv", SHA256: "3c0aa0154463618b7681a270e8f9705f134a01bf7f76117dc9bb7669a8fe3664"},
			{Path: "lo-mt/dev/en-pt.tsv", SHA256: "dd7d4652a634e950df880a77796e36d131b7486f0b7930633a8026e4eea2ae24"},
			{Path: "lo-mt/test/en-af.tsv", SHA256: "ba085b5b2ea1b1551fea734e66659014e7dda1a6d0c44ac0ea4450121b1771a4"},
			{Path: "lo-mt/test/en-de.tsv", SHA256: "ed53fd81319dfe89fdd8ecd9319b88697ba53c9d834e2e9ad486e1d0b60a2661"},
			{Path: "lo-mt/test/en-es.tsv", SHA256: "9e8ed36d704c6e121f4defb450d3c995096e095135ec4ac88206af94962e937d"},
			{Path: "lo-mt/test/en-eu.tsv", SHA256: "d31e07f7923c529912e9404bbc73723ae70d4b88b4408b80a667649a8d2a12de"},
			{Path: "lo-mt/test/en-fr.tsv", SHA256: "4bb9c19102fb81442d799fa8902e0abb2447ed4d25e0631f1d586f3b707ac456"},
			{Path: "lo-mt/test/en-gl.tsv", SHA256: "2ff0ce7ff69924b93f68228e56d1c597fef3c5b01d4dd04f7f4aa233f9f2bc7e"},
			{Path: "lo-mt/test/en-it.tsv", SHA256: "2ead2a3bd3252658a0b49e5737e47e52d7ae7f40ed72811c5bb0f6e1c7a1e8cc"},
			{Path: "lo-mt/test/en-nl.tsv", SHA256: "c900e493d1e38c95b70af9575de293870876a16a18967f3f7fd8a7cf729be4ff"},
			{Path: "lo-mt/test/en-pt.tsv", SHA256: "8c81d656c5c4698e4f1609e2f10eb2019d2e1af6e81c2c06befd4e474d60f82d"},
			{Path: "lo-mt/train/en-af.tsv", SHA256: "0c828124d175c65e08bc28e86aa63488f18dde49f82a17808200d175f879fc73"},
			{Path: "lo-mt/train/en-de.tsv", SHA256: "147f57dde73e8d12878b19e64d53b4329c7b55f5d5ed2b85e3755ba021c98eaa"},
			{Path: "lo-mt/train/en-es.tsv", SHA256: "1d15cc22a3d5e4eea21248c6646514d5c25c9d6e03dce7330b1bc9ec15af11a1"},
			{Path: "lo-mt/train/en-eu.tsv", SHA256: "74073c16c0388218c90a0f313ecc0334da8e1edc5fd2bf918ef3031041472063"},
			{Path: "lo-mt/train/en-fr.tsv", SHA256: "3a9f8627d17daf26e5e6b5440bcec8db903833db399b08e96a755936e254e03e"},
			{Path: "lo-mt/train/en-gl.tsv", SHA256: "0afaf2178d07c060a09bb9656be8bd536ea6bb56eb7d64e2f12fc0646f2894fb"},
			{Path: "lo-mt/train/en-it.tsv", SHA256: "f8b4ae2c0642470d8872119844e9ab9e01c0623dcfca4d20ffe1968d14f94d0b"},
			{Path: "lo-mt/train/en-nl.tsv", SHA256: "f2ad6b0502239de6537b3ee3295aeb47a4c91e076766e4fec1fb361b73df94a3"},
			{Path: "lo-mt/train/en-pt.tsv", SHA256: "03c94c584f5347dfd68bf32124abb18bfbebca82431a746130e6b2d451df070c"},
		},
	},
	{
		Name: "mulan", Description: "Mulan multi-target regression sets (ARFF), e.g. enb, sf1, jura", Licence: "see the Mulan collection",
		Obtain: "the ARFF files of the Mulan multi-target regression datasets (http://mulan.sourceforge.net/datasets-mtr.html) into mtr-mulan/",
		Files:  []RemoteFile{{Path: "mtr-mulan/enb.arff", SHA256: "8277d9094ccda6da2cd1c2b79c90ca201fa3695e75aca173ffc43138dcab0071"}, {Path: "mtr-mulan/sf1.arff", SHA256: "8f78e64aca64f7c0c7ba4d9b2f114feb2a6f72e6116e87d7dab94e7cab426d93"}, {Path: "mtr-mulan/jura.arff", SHA256: "78ce7655f49073e3622ef7ba25657b3900a2b279ba3d48cb82e353e56bac3d2a"}},
	},
}

// LookupDataset finds a dataset by name.
func LookupDataset(name string) (KnownDataset, error) {
	var names []string
	for _, d := range Datasets {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return KnownDataset{}, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(names, ", "))
}

// FileCheck is the state of one file in a data folder.
type FileCheck struct {
	Path    string `json:"path"`
	Present bool   `json:"present"`
	// Verified: "md5" (official checksum), "sha256", "content-sha256"
	// (decompressed payload), "" when not checked or no checksum known.
	Verified string `json:"verified,omitempty"`
	Err      string `json:"error,omitempty"`
}

// Present reports which of d's files (or alternative files) exist in dir;
// ok when the main set or the alternative set is complete.
func (d KnownDataset) Present(dir string) (checks []FileCheck, ok bool) {
	complete := func(fs []RemoteFile) bool {
		all := len(fs) > 0
		for _, f := range fs {
			_, err := os.Stat(filepath.Join(dir, f.Path))
			checks = append(checks, FileCheck{Path: f.Path, Present: err == nil})
			all = all && err == nil
		}
		return all
	}
	a := complete(d.Files)
	b := complete(d.Alt)
	return checks, a || b
}

// Verify checks every present file against its checksums.
func (d KnownDataset) Verify(dir string) []FileCheck {
	var out []FileCheck
	for _, f := range append(append([]RemoteFile(nil), d.Files...), d.Alt...) {
		p := filepath.Join(dir, f.Path)
		c := FileCheck{Path: f.Path}
		if _, err := os.Stat(p); err == nil {
			c.Present = true
			c.Verified, err = VerifyFile(p, f)
			if err != nil {
				c.Err = err.Error()
			}
		}
		out = append(out, c)
	}
	return out
}

// VerifyFile checks one file: the official MD5 first, then the SHA-256 of
// the file, then the SHA-256 of its decompressed content. It returns the
// check that passed, or an error when a checksum is known and none matches.
func VerifyFile(path string, f RemoteFile) (string, error) {
	if f.MD5 == "" && f.SHA256 == "" && f.ContentSHA256 == "" {
		return "", nil
	}
	m, s, err := fileSums(path, md5.New(), sha256.New())
	if err != nil {
		return "", err
	}
	switch {
	case f.MD5 != "" && m == f.MD5:
		return "md5", nil
	case f.SHA256 != "" && s == f.SHA256:
		return "sha256", nil
	}
	if f.ContentSHA256 != "" && strings.HasSuffix(path, ".gz") {
		fh, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer fh.Close()
		zr, err := gzip.NewReader(fh)
		if err == nil {
			h := sha256.New()
			if _, err = io.Copy(h, zr); err == nil && hex.EncodeToString(h.Sum(nil)) == f.ContentSHA256 {
				return "content-sha256", nil
			}
		}
	}
	want := f.MD5
	if want == "" {
		want = f.SHA256
	}
	return "", fmt.Errorf("%s: checksum mismatch (md5 %s, sha256 %s; want %s): the file is corrupt or a different version", path, m, s, want)
}

func fileSums(path string, a, b hash.Hash) (string, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer fh.Close()
	if _, err := io.Copy(io.MultiWriter(a, b), fh); err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(a.Sum(nil)), hex.EncodeToString(b.Sum(nil)), nil
}

// Get downloads d's files into dir (skipping files already present and
// verified), each through a temporary file that is verified before it is
// renamed into place. Without network it fails with the URL to fetch by
// hand and the path to put it at.
func (d KnownDataset) Get(ctx context.Context, client *http.Client, dir string, log func(string)) error {
	if !d.Gettable() {
		if _, ok := d.Present(dir); ok {
			bad := 0
			for _, c := range d.Verify(dir) {
				if c.Present && c.Err != "" {
					bad++
				}
			}
			if bad == 0 {
				log(fmt.Sprintf("%s: present in %s (it cannot be downloaded automatically; the present files verify)", d.Name, dir))
				return nil
			}
		}
		return fmt.Errorf("%s cannot be downloaded automatically: obtain %s and put it under %s", d.Name, d.Obtain, dir)
	}
	for _, f := range d.Files {
		p := filepath.Join(dir, f.Path)
		if _, err := os.Stat(p); err == nil {
			if how, err := VerifyFile(p, f); err == nil {
				log(fmt.Sprintf("%s: present (%s)", f.Path, orNone(how)))
				continue
			}
			return fmt.Errorf("%s exists but does not verify; remove it and run again", p)
		}
		log(fmt.Sprintf("%s: downloading %s", f.Path, f.URL))
		if err := download(ctx, client, f, p); err != nil {
			return fmt.Errorf("%w; without network, fetch %s by hand and put it at %s", err, f.URL, p)
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no checksum recorded"
	}
	return "verified by " + s
}

func download(ctx context.Context, client *http.Client, f RemoteFile, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot download %s: %v", f.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot download %s: HTTP %s", f.URL, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after the rename
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot download %s: %v", f.URL, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if _, err := VerifyFile(name, f); err != nil {
		return errors.New(strings.Replace(err.Error(), name, f.URL, 1))
	}
	return os.Rename(name, dst)
}
