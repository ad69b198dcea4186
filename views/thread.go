package views

import "fyne.io/fyne/v2"

// onMain and onMainAndWait run UI updates on Fyne's main goroutine; work
// done on other goroutines hands its results to the widgets through them.
// Tests replace them with a queue the test goroutine drains, so the
// widgets are only ever touched by one goroutine there too.
var (
	onMain        = fyne.Do
	onMainAndWait = fyne.DoAndWait
)
