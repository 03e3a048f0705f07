// Package datasets lists and decodes image datasets for anomaly detection, reads
// particle sample sets from .npy files, and writes synthetic demo data.
//
// Open recognises the MVTec AD layout (ROOT/<category>/train/good,
// ROOT/<category>/test/<defect|good>, ROOT/<category>/ground_truth/<defect>/<name>_mask.png,
// or ROOT being one category folder) and a plain folder layout for users' own
// data (ROOT/good for training, ROOT/test/good and ROOT/test/<defect> for
// evaluation, masks optional in ROOT/ground_truth/<defect>). Listing decodes
// nothing; Stream decodes on a pool of workers and hands samples to the caller
// in order, holding only a bounded window in memory.
//
// PNG, JPEG and BMP files are read, in grayscale (replicated to R = G = B), RGB,
// RGBA, paletted and 16-bit forms. Masks are binarised at 128 of 255 and, when
// their size differs from the image's, resized by nearest neighbour with a
// counted warning. Unreadable or truncated files give an error naming the file
// (or a counted warning with LoadOptions.SkipBad); other files are ignored.
package datasets
