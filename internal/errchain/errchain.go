// Package errchain finds the cause at the end of a wrapped error chain, which
// is what a pane shows of a driver's or SDK's failure.
package errchain

// Root follows err's Unwrap chain to the error at its end: what a
// backend shows of a failure, since drivers and SDKs wrap the cause in the
// operation, the request id, the user and the database. Of a joined list
// (Unwrap() []error) it follows the last error. A nil err stays nil.
func Root(err error) error {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next := u.Unwrap()
			if next == nil {
				return err
			}
			err = next
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			if len(errs) == 0 {
				return err
			}
			err = errs[len(errs)-1]
		default:
			return err
		}
	}
}
