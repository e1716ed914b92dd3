// Command gen writes the ARMS forms of rules/ into deploy/arms (go generate
// runs it there).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dyvms-community/dyvms_exporter/deploy/arms"
)

func main() {
	files, err := arms.Render(filepath.Join("..", "..", "rules"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
