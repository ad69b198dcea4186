package views

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func TestGalleryShowsFiltersAndActs(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	images := core.Images
	go app.Follow(core.Context(), fake, images, nil)
	img := smallImage(t)
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.History = []v1.History{{CreatedBy: "/bin/sh -c #(nop) ADD file:4d5e in / "}, {CreatedBy: "/bin/sh -c #(nop)  CMD [\"sh\"]", EmptyLayer: true}}
	img, _ = mutate.ConfigFile(img, cf)
	fake.Publish("registry.example/library/busybox:1.36", img)
	w := test.NewTempWindow(t, nil)
	var ran, explored string
	g := NewGallery(core, w, GalleryActions{Run: func(r string) { ran = r }, ExploreLayers: func(r string) { explored = r }})
	w.SetContent(g.Object)
	w.Resize(g.Object.MinSize().Max(sizeOf(900, 500)))

	if !g.Empty.Visible() || g.Table.Visible() || len(g.Rows()) != 0 {
		t.Fatal("an empty engine should show the empty-state hint")
	}
	assertCentred(t, g.Empty, w)
	if g.Buttons["Remove"].Disabled() == false {
		t.Fatal("Remove is enabled with nothing selected")
	}
	if err := images.Pull(ctx, "registry.example/library/busybox:1.36", app.NewTransfer(nil)); err != nil {
		t.Fatal(err)
	}
	fake.Tag(ctx, "registry.example/library/busybox:1.36", "tutorial/hello:v1")
	waitUI(t, "two rows", func() bool { return len(g.Rows()) == 2 })
	if g.Empty.Visible() || !g.Table.Visible() {
		t.Fatal("the empty-state hint stays with images shown")
	}
	row := g.Rows()[0]
	if g.cell(row, 2) != row.ShortID || !strings.HasSuffix(g.cell(row, 3), "kB") {
		t.Fatalf("cells %q %q", g.cell(row, 2), g.cell(row, 3))
	}

	test.Type(g.Filter, "tutorial")
	waitUI(t, "the filter", func() bool { return len(g.Rows()) == 1 })
	if g.Rows()[0].Ref != "tutorial/hello:v1" {
		t.Fatalf("filtered rows %+v", g.Rows())
	}
	g.Select(0)
	if g.Buttons["Run"].Disabled() {
		t.Fatal("Run disabled with a row selected")
	}
	// The whole row shows the selection, not only its first cell.
	if !painted(w, g.Table, 400, theme.Color(theme.ColorNameSelection)) {
		t.Error("the selected row's Image ID cell is not highlighted")
	}
	test.Tap(g.Buttons["Run"])
	test.Tap(g.Buttons["Layers"])
	if ran != "tutorial/hello:v1" || explored != "tutorial/hello:v1" {
		t.Fatalf("Run got %q, Layers got %q", ran, explored)
	}

	// Inspect reads as a form, the raw JSON folded below; History as a
	// table of the steps as a Dockerfile reads them.
	test.Tap(g.Buttons["Inspect"])
	waitUI(t, "Inspect", func() bool { return topOverlay(w) != nil })
	if find(topOverlay(w), func(o fyne.CanvasObject) bool { _, ok := o.(*widget.Form); return ok }) == nil ||
		find(topOverlay(w), func(o fyne.CanvasObject) bool {
			a, ok := o.(*widget.Accordion)
			return ok && a.Items[len(a.Items)-1].Title == "Raw JSON (docker inspect)"
		}) == nil {
		t.Error("Inspect shows no form of the image's details, or no raw JSON below it")
	}
	closeTopDialog(w)
	test.Tap(g.Buttons["History"])
	waitUI(t, "History", func() bool { return topOverlay(w) != nil })
	if find(topOverlay(w), func(o fyne.CanvasObject) bool {
		l, ok := o.(*widget.Label)
		return ok && (strings.Contains(l.Text, "#(nop)") || strings.Contains(l.Text, "/bin/sh -c"))
	}) != nil {
		t.Error("History shows a raw step (#(nop), /bin/sh -c)")
	}
	if find(topOverlay(w), func(o fyne.CanvasObject) bool { l, ok := o.(*widget.Label); return ok && l.Text == `CMD ["sh"]` }) == nil {
		t.Error(`History does not read the image's last step as CMD ["sh"]`)
	}
	closeTopDialog(w)

	// Remove asks first, then untags.
	test.Tap(g.Buttons["Remove"])
	yes := buttonIn(topOverlay(w), "Yes")
	if yes == nil {
		t.Fatal("no confirmation dialog")
	}
	test.Tap(yes)
	g.Filter.SetText("")
	waitUI(t, "the untagged row to go", func() bool { return len(g.Rows()) == 1 })

	test.Tap(g.Buttons["Pull…"])
	if buttonIn(topOverlay(w), "Pull") == nil {
		t.Fatal("Pull… opened no dialog")
	}
}

// The one-action-one-target rule: after a reload moves the selected image
// to another row (a new tag sorted above it), the highlight moves with it,
// so the row the screen highlights is the one Push or Remove acts on.
func TestGalleryHighlightFollowsTheSelectedImage(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	go app.Follow(core.Context(), fake, core.Images, nil)
	fake.Publish("registry.example/library/busybox:1.36", smallImage(t))
	w := test.NewTempWindow(t, nil)
	g := NewGallery(core, w, GalleryActions{})
	w.SetContent(g.Object)
	g.Sort.SetSelected("Name")
	if err := core.Images.Pull(ctx, "registry.example/library/busybox:1.36", app.NewTransfer(nil)); err != nil {
		t.Fatal(err)
	}
	waitUI(t, "the image", func() bool { return len(g.Rows()) == 1 })
	highlighted := -1
	onSelected := g.Table.OnSelected
	g.Table.OnSelected = func(id widget.TableCellID) { highlighted = id.Row; onSelected(id) }
	g.Select(0)

	fake.Tag(ctx, "registry.example/library/busybox:1.36", "aaa/first:v1") // sorts above it
	waitUI(t, "the new tag", func() bool { return len(g.Rows()) == 2 })
	sel, ok := g.Selected()
	if !ok || sel.Ref != "registry.example/library/busybox:1.36" {
		t.Fatalf("the selection moved to %+v", sel)
	}
	if highlighted != 1 || g.Rows()[highlighted].Ref != sel.Ref {
		t.Fatalf("the highlight is on row %d, the actions' target on %q", highlighted, sel.Ref)
	}
}

// An image whose tag moved on in its registry says so in its row, and
// only then offers Update…; the update pulls it and recreates the
// container that ran it.
func TestGalleryOffersAnUpdate(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	go app.Follow(core.Context(), fake, core.Images, core.Containers)
	ref := "registry.example/me/web:stable"
	fake.Publish(ref, smallImage(t))
	w := test.NewTempWindow(t, nil)
	g := NewGallery(core, w, GalleryActions{})
	w.SetContent(g.Object)
	if err := core.Images.Pull(ctx, ref, app.NewTransfer(nil)); err != nil {
		t.Fatal(err)
	}
	id, _ := fake.Containers().Create(ctx, engine.ContainerSpec{Name: "web", Image: ref})
	fake.Containers().Start(ctx, id)
	waitUI(t, "the image", func() bool { return len(g.Rows()) == 1 })
	g.Select(0)
	test.Tap(g.Buttons["Check for updates"])
	waitUI(t, "the check", func() bool { return !g.Buttons["Check for updates"].Disabled() && topOverlay(w) != nil })
	if g.cell(g.Rows()[0], 5) != "" || !g.Buttons["Update…"].Disabled() {
		t.Fatalf("an image its registry still names: %q, Update… enabled %v", g.cell(g.Rows()[0], 5), !g.Buttons["Update…"].Disabled())
	}
	test.Tap(buttonIn(topOverlay(w), "OK")) // "Up to date"

	fake.Publish(ref, smallImage(t)) // the tag moves on
	test.Tap(g.Buttons["Check for updates"])
	waitUI(t, "the update", func() bool { return len(g.Rows()) == 1 && g.Rows()[0].Update && buttonIn(topOverlay(w), "OK") != nil })
	if g.cell(g.Rows()[0], 5) != "newer there" || g.Buttons["Update…"].Disabled() {
		t.Fatalf("the row %q, Update… disabled %v", g.cell(g.Rows()[0], 5), g.Buttons["Update…"].Disabled())
	}
	test.Tap(buttonIn(topOverlay(w), "OK")) // "Updates"
	old, _ := fake.Containers().Inspect(ctx, "web")
	test.Tap(g.Buttons["Update…"])
	test.Tap(buttonIn(topOverlay(w), "Update"))
	waitUI(t, "the recreated container", func() bool {
		ct, err := fake.Containers().Inspect(ctx, "web")
		return err == nil && ct.ID != old.ID && ct.ImageID != old.ImageID && ct.State.Status == engine.StatusRunning
	})
}

func TestReselect(t *testing.T) {
	key := func(s string) string { return s }
	for _, tc := range []struct {
		items []string
		was   string
		had   bool
		want  int
	}{
		{[]string{"a", "b"}, "b", true, 1},
		{[]string{"new", "a", "b"}, "b", true, 2},
		{[]string{"a"}, "b", true, -1},
		{[]string{"a", ""}, "", false, -1},
	} {
		if got := reselect(tc.items, key, tc.was, tc.had); got != tc.want {
			t.Errorf("reselect(%v, %q, %v) = %d, want %d", tc.items, tc.was, tc.had, got, tc.want)
		}
	}
}

// A registry that wants an account: the push offers Log in with the
// registry filled in; logging in keeps the account where docker login
// does and tries again.
func TestLoginIsOfferedAndKept(t *testing.T) {
	core, _ := fakeCore(t)
	test.NewTempApp(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	w := test.NewTempWindow(t, nil)
	w.Resize(sizeOf(900, 600))
	retried := false
	showErrorOrLogin(core, w, "ghcr.io/me/app:v1", fmt.Errorf("push: %w", engine.ErrUnauthorized), func() { retried = true })
	login := buttonIn(topOverlay(w), "Log in")
	if login == nil {
		t.Fatal("no Log in dialog for a refused push")
	}
	reg := find(topOverlay(w), func(o fyne.CanvasObject) bool { e, ok := o.(*escEntry); return ok && e.Text == "ghcr.io" })
	if reg == nil {
		t.Fatal("the dialog does not name the registry")
	}
	user := find(topOverlay(w), func(o fyne.CanvasObject) bool { e, ok := o.(*escEntry); return ok && e.PlaceHolder == "user name" }).(*escEntry)
	pass := find(topOverlay(w), func(o fyne.CanvasObject) bool { e, ok := o.(*escEntry); return ok && e.Password }).(*escEntry)
	user.SetText("me")
	pass.SetText("token")
	test.Tap(login)
	waitUI(t, "the retry after logging in", func() bool { return retried })
	data, _ := os.ReadFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json"))
	if !strings.Contains(string(data), `"ghcr.io"`) {
		t.Errorf("config.json after login:\n%s", data)
	}
	// Any other error is shown as it is, with no login.
	retried = false
	showErrorOrLogin(core, w, "ghcr.io/me/app:v1", fmt.Errorf("push: %w", engine.ErrNotFound), func() { retried = true })
	if buttonIn(topOverlay(w), "Log in") != nil || retried {
		t.Error("a not-found error offered a login")
	}
}
