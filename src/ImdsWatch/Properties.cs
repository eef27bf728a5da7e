// stackalloc buffers on the hot path are always written before they are read: skip zeroing them.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
