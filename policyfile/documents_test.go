package policyfile

import (
	"strings"
	"testing"
)

// TestDocuments: a file of several documents is read whole under the
// limits of one, and Document still refuses a second document.
func TestDocuments(t *testing.T) {
	aliases := "a: &x [1]\n" + strings.Repeat("---\nb: *x\n", 60)
	// Each document alone is small; expanded over the file they are not.
	bomb := "a: &x [" + strings.Repeat("1,", 2000) + "1]\n" + strings.Repeat("---\nb: *x\n", 60)
	for _, tt := range []struct {
		name    string
		src     string
		docs    int    // Documents' count when no error is wanted
		wantErr string // Documents' error
		oneErr  string // Document's error, "" when it reads the file
	}{
		{"one document", "service: a\n", 1, "", ""},
		{"three documents", "a: 1\n---\nb: 2\n---\nc: 3\n", 3, "", "f.yaml:2:1: a policy file holds one YAML document"},
		{"empty documents left out", "---\n---\na: 1\n---\n", 1, "", "this is a second"},
		{"empty file", "# nothing\n", 0, "empty policy file", "empty policy file"},
		{"syntax error in the second", "a: 1\n---\nb: [\n", 0, "f.yaml:3", "f.yaml:3"},
		{"aliases expanded over the file", bomb, 0, "with its aliases expanded has more than", "this is a second"},
		{"too many aliases over the file", aliases + "---\n" + strings.Repeat("- *z\n", 50), 0, "more than 100 aliases", "more than 100 aliases"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Documents("f.yaml", []byte(tt.src))
			switch {
			case tt.wantErr == "" && (err != nil || len(docs) != tt.docs):
				t.Errorf("%d documents, %v; want %d", len(docs), err, tt.docs)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("%v; want an error saying %q", err, tt.wantErr)
			}
			_, err = Document("f.yaml", []byte(tt.src))
			switch {
			case tt.oneErr == "" && err != nil:
				t.Errorf("Document: %v", err)
			case tt.oneErr != "" && (err == nil || !strings.Contains(err.Error(), tt.oneErr)):
				t.Errorf("Document: %v; want an error saying %q", err, tt.oneErr)
			}
		})
	}
}
