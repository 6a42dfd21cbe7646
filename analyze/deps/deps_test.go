package deps

import (
	"slices"
	"testing"
)

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		lang, src string
		want      []string
	}{
		{"Go", "package p\n\nimport \"fmt\"\nimport (\n\t\"os\"\n\tx \"example.com/m/x\" // why\n\t_ \"embed\"\n)\n\nfunc f() { import_ := 1 }\n", []string{"fmt", "os", "example.com/m/x", "embed"}},
		{"Go", "package p\nimport (\"a\"; \"b\")\n", []string{"a"}},
		{"C", "#include <stdio.h>\n#  include <sys/types.h>\n#include \"local.h\"\nint include;\n", []string{"stdio.h", "sys/types.h"}},
		{"Python", "import os, sys as s\nfrom collections.abc import Mapping\nfrom . import sibling\nimport numpy.linalg # comment\n", []string{"os", "sys", "collections", "numpy"}},
		{"JavaScript", "import React from 'react';\nimport { x } from \"@scope/pkg/sub\";\nconst fs = require('fs');\nimport './local.css';\nexport { y } from 'lodash/fp';\n", []string{"react", "@scope/pkg", "fs", "lodash"}},
		{"Java", "package a;\nimport java.util.List;\nimport static org.junit.Assert.assertEquals;\nimport com.acme.*;\nimport com.acme.Outer.Inner;\n", []string{"java.util", "org.junit", "com.acme", "com.acme"}},
		{"Rust", "use std::io;\nuse serde::{Deserialize};\nuse crate::local;\npub use tokio::sync;\nextern crate libc;\n", []string{"std", "serde", "tokio", "libc"}},
		{"Markdown", "import os\n", nil},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			var got []string
			for _, d := range Extract(tc.lang, []byte(tc.src)) {
				got = append(got, d.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if d := Extract("C", []byte("int a;\n#ifdef X\n#include <x.h>\n#endif\n")); len(d) != 1 || d[0].Line != 2 {
		t.Errorf("line of the include: %+v", d)
	}
}
