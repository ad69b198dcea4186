package views

// reselect finds, after a reload, the row of the item that was selected
// (had: one was; key: what names it), or -1. The caller then moves the
// widget's highlight to that row, or clears it: the highlight and what
// the actions apply to move together, so an action always applies to the
// row the screen highlights (a new tag sorted above the selected image
// moves it down a row).
func reselect[T any, K comparable](items []T, key func(T) K, was K, had bool) int {
	if !had {
		return -1
	}
	for i, it := range items {
		if key(it) == was {
			return i
		}
	}
	return -1
}
