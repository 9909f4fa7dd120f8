// A peer program of netlab's own, as small as one can be: the fixture of scenarios/interop/build.test.ts
// (build on demand, cache by source hash). It prints one line naming itself and its arguments.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	fmt.Printf("hello-peer %s\n", strings.Join(os.Args[1:], " "))
}
