//! CLIP-family encoders for Shoebox.
