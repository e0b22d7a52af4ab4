//go:build js && wasm

// Command wasm is the playground's WebAssembly module. It registers two
// JavaScript functions on the global object and then waits forever:
//
//	pghbaEvaluate(stateJSON) -> resultJSON   // eval.Evaluate
//	pghbaAudit(stateJSON)    -> auditJSON    // eval.Audit
//
// Both take the share-link state JSON and return JSON; a state that does not
// decode, or a panic, gives {"error": "..."}. The page runs the module in a
// Web Worker (playground/site/worker.js), so a slow evaluation never blocks
// the page.
package main

import (
	"encoding/json"
	"fmt"
	"syscall/js"

	"github.com/pghba/pghba/playground/eval"
)

func main() {
	js.Global().Set("pghbaEvaluate", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return call(args, func(st *eval.State) any { return eval.Evaluate(st) })
	}))
	js.Global().Set("pghbaAudit", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return call(args, func(st *eval.State) any { return eval.Audit(st) })
	}))
	js.Global().Set("pghbaReady", true)
	select {}
}

func call(args []js.Value, f func(*eval.State) any) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = errorJSON(fmt.Sprintf("internal error: %v", r))
		}
	}()
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return errorJSON("want one argument, the state as a JSON string")
	}
	var st eval.State
	if err := json.Unmarshal([]byte(args[0].String()), &st); err != nil {
		return errorJSON("state: " + err.Error())
	}
	b, err := json.Marshal(f(&st))
	if err != nil {
		return errorJSON("result: " + err.Error())
	}
	return string(b)
}

func errorJSON(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}
