// Package cond compiles and evaluates the safe expressions used by step
// conditions and branch `on`, over inputs and steps only.
package cond

// Expr is a compiled expression.
type Expr struct{ src string }

// Compile compiles src: an expr-lang expression, or a {{ }} template whose
// rendering is read as a boolean.
func Compile(src string) (*Expr, error) { panic("TODO") }

// Refs returns the normalised paths the expression reads ("inputs.x", "steps.a.b").
func (e *Expr) Refs() []string { panic("TODO") }

// Bool evaluates the expression as a condition.
func (e *Expr) Bool(data map[string]any) (bool, error) { panic("TODO") }

// Value evaluates the expression to a value (branch `on`).
func (e *Expr) Value(data map[string]any) (any, error) { panic("TODO") }
