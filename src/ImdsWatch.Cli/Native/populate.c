/*
 * Start-up of the native build. The runtime expands ("rehydrates") the type data of the image into a zeroed region of
 * about 6 MB at every start: touched a page at a time, that is ~1,500 page faults, the largest single cost of starting
 * (most of a scan of a small log). This constructor runs before the runtime and asks the kernel to back that region
 * with huge pages where it can (MADV_HUGEPAGE) and to map it in one call (MADV_POPULATE_WRITE, Linux 5.14). Both are
 * advice: on an older kernel, or with transparent huge pages off, the calls fail and nothing changes.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int imdswatch_populate(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++)
    {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        /* The writable segment's zero-filled tail (.bss and the region the runtime rehydrates into), when large. */
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz < ph->p_filesz + (1u << 20))
            continue;
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(page - 1);
        if (end > start)
        {
            madvise((void *)start, end - start, MADV_HUGEPAGE);
            madvise((void *)start, end - start, MADV_POPULATE_WRITE);
        }
    }
    return 1; /* the first object is the program itself: stop there */
}

__attribute__((constructor)) static void imdswatch_populate_image_data(void)
{
    dl_iterate_phdr(imdswatch_populate, 0);
}
