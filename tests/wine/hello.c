/* The Windows tool the wine tests install: prints a fixed line, and with
 * `sleep N` keeps running N seconds (an exe that is running cannot be
 * replaced in place on Windows, which the tests exercise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
        printf("sleeping\n");
        fflush(stdout);
        Sleep((DWORD)atoi(argv[2]) * 1000);
        return 0;
    }
    printf("hello from postbin\n");
    return 0;
}
