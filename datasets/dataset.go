package datasets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Layout is the folder layout of a dataset.
type Layout int

// Layouts Open recognises.
const (
	// MVTec is ROOT/<category>/{train/good, test/<defect|good>, ground_truth/<defect>}
	// (or ROOT itself one category folder).
	MVTec Layout = iota
	// Folder is a user's plain folder: ROOT/good for training, ROOT/test/good and
	// ROOT/test/<defect> for evaluation, optional masks in ROOT/ground_truth/<defect>.
	Folder
)

func (l Layout) String() string {
	if l == Folder {
		return "folder"
	}
	return "mvtec"
}

// Good is the folder (and Item.Defect) name of defect-free images.
const Good = "good"

// Item is one image file of a dataset, listed but not decoded.
type Item struct {
	// Path is the image file.
	Path string
	// MaskPath is its ground-truth mask, "" when there is none (always "" for
	// good images, whose mask is all zero).
	MaskPath string
	// Category is the category name; Split is "train" or "test".
	Category, Split string
	// Defect is the folder the image came from: "good" or a defect type.
	Defect string
}

// Anomalous reports whether the item is a defective image (label 1).
func (it Item) Anomalous() bool { return it.Defect != Good }

// Category is one object or texture class with its training and test items.
type Category struct {
	Name string
	Dir  string
	// Train holds defect-free training images, Test the evaluation images, both
	// sorted by path.
	Train, Test []Item
	// MissingMasks lists defective test images without a mask; pixel metrics
	// skip them (and say so).
	MissingMasks []string
}

// NumDefective counts the anomalous test items.
func (c *Category) NumDefective() int {
	n := 0
	for _, it := range c.Test {
		if it.Anomalous() {
			n++
		}
	}
	return n
}

// Dataset is a listed (not decoded) image dataset.
type Dataset struct {
	Root       string
	Layout     Layout
	Categories []*Category
}

// Category returns the category with the given name, or nil.
func (d *Dataset) Category(name string) *Category {
	for _, c := range d.Categories {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Open lists the dataset at root, recognising the layout:
//
//   - root/train/good exists: root is one MVTec category;
//   - root/good exists: a plain Folder dataset (one category named after root);
//   - otherwise every subfolder with a train or test folder is an MVTec category.
//
// Only PNG, JPEG and BMP files are listed (IsImageFile); other files
// (.DS_Store, license.txt) are skipped silently. A category without train/good,
// or whose train/good holds no image, is an error naming the folder.
func Open(root string) (*Dataset, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("datasets: %s is not a folder", root)
	}
	d := &Dataset{Root: root}
	switch {
	case isDir(filepath.Join(root, "train", Good)):
		c, err := openMVTecCategory(root)
		if err != nil {
			return nil, err
		}
		d.Categories = []*Category{c}
	case isDir(filepath.Join(root, Good)):
		d.Layout = Folder
		c, err := openFolder(root)
		if err != nil {
			return nil, err
		}
		d.Categories = []*Category{c}
	default:
		ents, err := os.ReadDir(root)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		for _, e := range ents {
			sub := filepath.Join(root, e.Name())
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if !isDir(filepath.Join(sub, "train")) && !isDir(filepath.Join(sub, "test")) {
				continue
			}
			c, err := openMVTecCategory(sub)
			if err != nil {
				return nil, err
			}
			d.Categories = append(d.Categories, c)
		}
		if len(d.Categories) == 0 {
			return nil, fmt.Errorf("datasets: %s: no dataset found; want ROOT/<category>/train/good (MVTec), ROOT/train/good (one category) or ROOT/good (plain folder)", root)
		}
	}
	return d, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// listImages returns the image files of dir, sorted; a missing dir gives nil.
func listImages(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("datasets: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && IsImageFile(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

func openMVTecCategory(dir string) (*Category, error) {
	c := &Category{Name: filepath.Base(filepath.Clean(dir)), Dir: dir}
	trainDir := filepath.Join(dir, "train", Good)
	if !isDir(trainDir) {
		return nil, fmt.Errorf("datasets: category %s: missing training folder %s", c.Name, trainDir)
	}
	if err := c.addTrain(trainDir); err != nil {
		return nil, err
	}
	return c, c.addTests(filepath.Join(dir, "test"), filepath.Join(dir, "ground_truth"))
}

func openFolder(dir string) (*Category, error) {
	c := &Category{Name: filepath.Base(filepath.Clean(dir)), Dir: dir}
	if err := c.addTrain(filepath.Join(dir, Good)); err != nil {
		return nil, err
	}
	return c, c.addTests(filepath.Join(dir, "test"), filepath.Join(dir, "ground_truth"))
}

func (c *Category) addTrain(dir string) error {
	files, err := listImages(dir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("datasets: category %s: %s holds no PNG, JPEG or BMP image", c.Name, dir)
	}
	for _, f := range files {
		c.Train = append(c.Train, Item{Path: f, Category: c.Name, Split: "train", Defect: Good})
	}
	return nil
}

// addTests lists testDir/<defect>/ images and matches masks
// gtDir/<defect>/<stem>_mask.<ext> (or <stem>.<ext>).
func (c *Category) addTests(testDir, gtDir string) error {
	ents, err := os.ReadDir(testDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // training-only data is allowed; evaluation will say so
		}
		return fmt.Errorf("datasets: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		defect := e.Name()
		files, err := listImages(filepath.Join(testDir, defect))
		if err != nil {
			return err
		}
		var masks map[string]string
		if defect != Good {
			mfiles, err := listImages(filepath.Join(gtDir, defect))
			if err != nil {
				return err
			}
			masks = map[string]string{}
			for _, m := range mfiles {
				stem := strings.TrimSuffix(filepath.Base(m), filepath.Ext(m))
				masks[stem] = m
				if s, ok := strings.CutSuffix(stem, "_mask"); ok {
					masks[s] = m
				}
			}
		}
		for _, f := range files {
			it := Item{Path: f, Category: c.Name, Split: "test", Defect: defect}
			if defect != Good {
				stem := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
				it.MaskPath = masks[stem]
				if it.MaskPath == "" {
					c.MissingMasks = append(c.MissingMasks, f)
				}
			}
			c.Test = append(c.Test, it)
		}
	}
	sort.Slice(c.Test, func(i, j int) bool { return c.Test[i].Path < c.Test[j].Path })
	return nil
}
