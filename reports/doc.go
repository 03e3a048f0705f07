// Package reports computes the anomaly-detection metrics of advgs eval (image
// AUROC, pixel AUROC, AUPRO, F1-max, ROC and precision-recall curves) and makes
// the reports people look at:
//
//   - DetectorReport: the report of advgs eval --report DIR, a folder with
//     index.html (summary table, ROC/PR curves and score histograms per category,
//     a gallery of overlays sorted with the worst misses first) and the images
//     beside it;
//   - DrawOverlay and Compose: an image with its anomaly map blended over it in the
//     Heat colormap on a fixed scale, the ground-truth outline and the outline of
//     the predicted defect (also advgs score --heatmaps);
//   - WriteSamplerReport: the report of advgs bench --report DIR, samples against
//     the exact density or the reference, training curves and the metric table
//     with the floors and the reference numbers.
//
// Metric conventions: a higher score means more anomalous; label true means
// anomalous; ties count half. Pages are self-contained: plain HTML and inline
// CSS, no scripts, no network; images are files beside index.html, and gallery
// thumbnails load lazily, so a 1,000-image test set stays quick to open. Every
// file is written atomically.
package reports
