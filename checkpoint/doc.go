// Package checkpoint saves and loads model weights in the safetensors
// format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header mapping each tensor name to its dtype, shape
// and byte range, then the raw little-endian data. PyTorch users read the
// files with the safetensors package or a few lines of Python
// (reference/load_safetensors.py).
//
// Files are written atomically: to a temporary file in the same folder,
// fsynced, then renamed over the destination, so a crash never leaves a
// half-written checkpoint under the final name.
package checkpoint
