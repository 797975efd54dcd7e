// Package cliopts reads command lines as GnuTLS's programs (gnutls-cli,
// gnutls-serv) do, from a table of options: --name=value or --name value,
// -x value or -xvalue, switches grouped as -ra.
package cliopts

import (
	"fmt"
	"io"
	"strings"
)

// Option is one command line option of a command whose settings are a T.
type Option[T any] struct {
	Short string // one letter, or "" for none
	Long  string
	Arg   string // names the value; "" makes the option a switch
	Help  string
	Set   func(o *T, v string) error
}

// UsageError is a mistake on the command line.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

// Usagef returns a UsageError with the formatted message.
func Usagef(format string, a ...any) error { return &UsageError{fmt.Sprintf(format, a...)} }

func find[T any](table []Option[T], name string, long bool) *Option[T] {
	for i := range table {
		opt := &table[i]
		if (long && opt.Long == name) || (!long && opt.Short == name) {
			return opt
		}
	}
	return nil
}

// Parse sets o from the options of args, as table says, and returns the
// other arguments. With operands, options and operands come in any order
// and "--" ends the options (gnutls-cli); without, every argument must be
// an option (gnutls-serv). Every error is a *UsageError.
func Parse[T any](table []Option[T], o *T, args []string, operands bool) ([]string, error) {
	var rest []string
	apply := func(opt *Option[T], name, v string) error {
		if err := opt.Set(o, v); err != nil {
			return Usagef("%s: %v", name, err)
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case operands && a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name, v, hasV := strings.Cut(a[2:], "=")
			opt := find(table, name, true)
			if opt == nil {
				return nil, Usagef("unknown option --%s", name)
			}
			switch {
			case opt.Arg == "" && hasV:
				return nil, Usagef("--%s takes no value", name)
			case opt.Arg != "" && !hasV:
				if i+1 >= len(args) {
					return nil, Usagef("--%s needs a value (%s)", name, opt.Arg)
				}
				i++
				v = args[i]
			}
			if err := apply(opt, "--"+name, v); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			for j := 1; j < len(a); j++ {
				opt := find(table, a[j:j+1], false)
				if opt == nil {
					return nil, Usagef("unknown option -%s", a[j:j+1])
				}
				if opt.Arg == "" {
					if err := apply(opt, "-"+opt.Short, ""); err != nil {
						return nil, err
					}
					continue
				}
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return nil, Usagef("-%s needs a value (%s)", opt.Short, opt.Arg)
					}
					i++
					v = args[i]
				}
				if err := apply(opt, "-"+opt.Short, v); err != nil {
					return nil, err
				}
				break
			}
		case operands:
			rest = append(rest, a)
		default:
			return nil, Usagef("%q is not an option: all arguments must be options", a)
		}
	}
	return rest, nil
}

// PrintOptions writes a line for each option of table, in its order:
// its names and its help.
func PrintOptions[T any](w io.Writer, table []Option[T]) {
	for _, opt := range table {
		names := "    "
		if opt.Short != "" {
			names = "-" + opt.Short + ", "
		}
		names += "--" + opt.Long
		if opt.Arg != "" {
			names += "=" + opt.Arg
		}
		fmt.Fprintf(w, "  %-30s %s\n", names, opt.Help)
	}
}
