; fcontext for x86_64, Microsoft x64 ABI, PE/COFF, MASM (ml64 or llvm-ml -m64).
; asm/x86_64_ms_pe_gas.S is the same code for GNU as (MinGW-w64).
;
; Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
; lowest byte; the slot offsets are Boost.Context 1.74's, so frames made here
; and frames made by Boost resume each other (slot 0xa8, padding in Boost's
; frame, holds the TEB ExceptionList here; see below).
;
;   offset | size | saved item                              | make_fcontext writes
;   -------+------+-----------------------------------------+---------------------
;     0x00 |  160 | xmm6 ... xmm15 (16 bytes each, aligned) | -
;     0xa0 |    4 | MXCSR                                   | current MXCSR
;     0xa4 |    2 | x87 control word                        | current control word
;     0xa8 |    8 | TEB+0x00   NT_TIB.ExceptionList (below) | -1 (the empty list)
;     0xb0 |    8 | TEB+0x20   NT_TIB.FiberData             | 0
;     0xb8 |    8 | TEB+0x1478 DeallocationStack            | sp - size
;     0xc0 |    8 | TEB+0x10   NT_TIB.StackLimit            | sp - size
;     0xc8 |    8 | TEB+0x08   NT_TIB.StackBase             | sp (as passed)
;     0xd0 |   32 | r12, r13, r14, r15                      | -
;     0xf0 |   16 | rdi, rsi                                | -
;    0x100 |    8 | rbx                                     | entry function
;    0x108 |    8 | rbp                                     | 0 (ends rbp chains)
;    0x110 |    8 | result buffer of the pending call (its  | fctx + 0x140
;          |      | rcx: a 16-byte transfer_t is returned   |
;          |      | through a hidden pointer)               |
;    0x118 |    8 | resume (return) address                 | address of trampoline
;    0x120 |   32 | the pending call's home (shadow) space  | -
;    0x140 |   16 | fresh only: {fctx, data} for the entry  | -
;          |      | function (passed by reference in rcx)   |
;
; A fresh context has fctx = (sp & ~15) - 0x150. The first jump enters the
; trampoline with rsp = fctx + 0x120; it stores 0 at fctx + 0x120 and 0x128
; (return address 0 and a 0 above: unwinders stop there), makes home space
; and calls the entry function (rsp = fctx + 0xf8 = 8 mod 16 at its start,
; rcx = &transfer_t), which returns to finish (_exit(0)).
;
; Unlike the GAS file, the trampoline has no exception handler: llvm-ml
; implements neither `PROC FRAME:handler` nor hand-written .xdata, so an
; exception no frame of the context handles ends the process through the
; system's unhandled-exception path once the walk stops at the trampoline
; (the GAS file's handler calls UnhandledExceptionFilter, so there an
; uncaught C++ exception ends in std::terminate). asm/x86_64_ms_pe_gas.S has
; the full story.
;
; ExceptionList (slot 0xa8, padding in Boost 1.74's frame): Windows x64 does
; not walk this list, but wine's dispatcher calls the wine-internal handlers
; registered there (the thread's top-level filter among them) for every frame
; above a record's address, so a list left pointing into another stack makes
; a C++ exception thrown on a context end in std::terminate under wine 8.x.
; Each context keeps its own head, as SwitchToFiber does: -1 when fresh, and
; a restored head not on the target's live stack [fctx, StackBase) becomes -1.
; asm/x86_64_ms_pe_gas.S has the full story.
;
; Position independence: llvm-ml encodes `lea reg, label` as an absolute
; 32-bit address (ml64 makes it RIP-relative), which cannot link into an image
; above 2 GiB. make_fcontext therefore ends with a `call` right before the
; trampoline: the pushed return address is the trampoline's run-time address
; under either assembler.
;
; Unwind data: each PROC FRAME gets a .pdata/.xdata entry; make, jump and
; ontop have no unwind codes, as Boost's (a debugger cannot walk through a
; switch); the trampoline describes its frame (.allocstack).
;
; Defining FCONTEXT_NO_FPU_CONTROL (/D) drops the MXCSR / x87 control word save
; and restore from jump and ontop (make still fills the slots).

EXTERN  _exit:PROC

; Saves the caller's nonvolatile state as a frame below the return address
; (layout in the table above); rsp is then the caller's fctx and r10 the TEB.
SAVE_CONTEXT MACRO
    lea     rsp, [rsp-118h]             ; frame below the return address; 16-aligned
    movaps  XMMWORD PTR [rsp+00h], xmm6 ; xmm6-xmm15 are callee-saved on Win64
    movaps  XMMWORD PTR [rsp+10h], xmm7 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+20h], xmm8 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+30h], xmm9 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+40h], xmm10 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+50h], xmm11 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+60h], xmm12 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+70h], xmm13 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+80h], xmm14 ; nonvolatile on Win64
    movaps  XMMWORD PTR [rsp+90h], xmm15 ; nonvolatile on Win64
IFNDEF FCONTEXT_NO_FPU_CONTROL
    stmxcsr DWORD PTR [rsp+0a0h]        ; MXCSR control bits are nonvolatile
    fnstcw  WORD PTR [rsp+0a4h]         ; so is the x87 control word
ENDIF
    mov     r10, gs:[30h]               ; the TEB (NT_TIB.Self)
    mov     rax, [r10]                  ; TEB ExceptionList (wine's handler records)
    mov     [rsp+0a8h], rax             ; ExceptionList
    mov     rax, [r10+20h]              ; TEB FiberData
    mov     [rsp+0b0h], rax             ; FiberData
    mov     rax, [r10+1478h]            ; TEB DeallocationStack
    mov     [rsp+0b8h], rax             ; DeallocationStack
    mov     rax, [r10+10h]              ; TEB StackLimit
    mov     [rsp+0c0h], rax             ; StackLimit
    mov     rax, [r10+08h]              ; TEB StackBase
    mov     [rsp+0c8h], rax             ; StackBase
    mov     [rsp+0d0h], r12             ; callee-saved: back when this side resumes
    mov     [rsp+0d8h], r13             ; callee-saved: back when this side resumes
    mov     [rsp+0e0h], r14             ; callee-saved: back when this side resumes
    mov     [rsp+0e8h], r15             ; callee-saved: back when this side resumes
    mov     [rsp+0f0h], rdi             ; callee-saved: back when this side resumes
    mov     [rsp+0f8h], rsi             ; callee-saved: back when this side resumes
    mov     [rsp+100h], rbx             ; callee-saved: back when this side resumes
    mov     [rsp+108h], rbp             ; callee-saved: back when this side resumes
    mov     [rsp+110h], rcx             ; where our own pending call's result goes
ENDM

; Loads the frame at rsp (the target's) into the registers and the TEB (r10);
; rax = the target's result buffer; rcx and rdx are clobbered, r8, r9, r11
; are left alone.
RESTORE_CONTEXT MACRO
    movaps  xmm6, XMMWORD PTR [rsp+00h] ; the target's xmm6
    movaps  xmm7, XMMWORD PTR [rsp+10h] ; the target's xmm7
    movaps  xmm8, XMMWORD PTR [rsp+20h] ; the target's xmm8
    movaps  xmm9, XMMWORD PTR [rsp+30h] ; the target's xmm9
    movaps  xmm10, XMMWORD PTR [rsp+40h] ; the target's xmm10
    movaps  xmm11, XMMWORD PTR [rsp+50h] ; the target's xmm11
    movaps  xmm12, XMMWORD PTR [rsp+60h] ; the target's xmm12
    movaps  xmm13, XMMWORD PTR [rsp+70h] ; the target's xmm13
    movaps  xmm14, XMMWORD PTR [rsp+80h] ; the target's xmm14
    movaps  xmm15, XMMWORD PTR [rsp+90h] ; the target's xmm15
IFNDEF FCONTEXT_NO_FPU_CONTROL
    ldmxcsr DWORD PTR [rsp+0a0h]        ; the target's SSE control state
    fldcw   WORD PTR [rsp+0a4h]         ; the target's x87 control word
ENDIF
    mov     rax, [rsp+0a8h]             ; the target's ExceptionList ...
    mov     rcx, rax
    sub     rcx, rsp                    ; ... its distance above the target's frame
    mov     rdx, [rsp+0c8h]
    sub     rdx, rsp                    ; the target's live stack: [fctx, StackBase)
    cmp     rcx, rdx                    ; unsigned: a record on that stack?
    mov     rcx, -1                     ; (mov leaves the flags alone)
    cmovae  rax, rcx                    ; no: the empty list (-1 stays -1)
    mov     [r10], rax                  ; ... now the thread's ExceptionList
    mov     rax, [rsp+0b0h]             ; the target's stack becomes the thread's stack
    mov     [r10+20h], rax              ; ... now describes the target stack
    mov     rax, [rsp+0b8h]             ; the target's DeallocationStack
    mov     [r10+1478h], rax            ; ... now describes the target stack
    mov     rax, [rsp+0c0h]             ; the target's StackLimit
    mov     [r10+10h], rax              ; ... now describes the target stack
    mov     rax, [rsp+0c8h]             ; the target's StackBase
    mov     [r10+08h], rax              ; ... now describes the target stack
    mov     r12, [rsp+0d0h]             ; the target's r12
    mov     r13, [rsp+0d8h]             ; the target's r13
    mov     r14, [rsp+0e0h]             ; the target's r14
    mov     r15, [rsp+0e8h]             ; the target's r15
    mov     rdi, [rsp+0f0h]             ; the target's rdi
    mov     rsi, [rsp+0f8h]             ; the target's rsi
    mov     rbx, [rsp+100h]             ; the target's rbx
    mov     rbp, [rsp+108h]             ; the target's rbp
    mov     rax, [rsp+110h]             ; the target's result buffer
ENDM

.code

; fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t))
; rcx = sp, rdx = size, r8 = fn
make_fcontext PROC FRAME
    .endprolog
    mov     rax, rcx                    ; work on the stack top passed in
    and     rax, -16                    ; movaps in jump needs a 16-aligned frame
    lea     rax, [rax-150h]             ; frame, home space and the entry's transfer_t
    mov     [rax+100h], r8              ; trampoline finds the entry function in rbx
    mov     [rax+0c8h], rcx             ; StackBase: the top as given
    sub     rcx, rdx                    ; sp - size: the lowest address of the stack
    mov     [rax+0c0h], rcx             ; StackLimit: lowest usable address
    mov     [rax+0b8h], rcx             ; DeallocationStack: same
    xor     ecx, ecx                    ; zero for FiberData
    mov     [rax+0b0h], rcx             ; FiberData: a context is no Windows fiber
    dec     rcx                         ; -1 for ExceptionList
    mov     [rax+0a8h], rcx             ; ExceptionList: empty (EXCEPTION_CHAIN_END)
    stmxcsr DWORD PTR [rax+0a0h]        ; fresh context inherits the SSE control/status
    fnstcw  WORD PTR [rax+0a4h]         ; ... and the x87 control word
    lea     rcx, [rax+140h]             ; the entry function's transfer_t buffer
    mov     [rax+110h], rcx             ; first jump writes {fctx, data} here
    xor     ecx, ecx
    mov     [rax+108h], rcx             ; rbp: the entry function starts with rbp = 0
    call    fcontext_make_tail          ; pushes the address of fcontext_trampoline (next)
make_fcontext ENDP

; The first jump enters here with rsp = fctx + 120h (16-aligned), rbx = the
; entry function and rcx = &{fctx, data}.
fcontext_trampoline PROC FRAME
    mov     QWORD PTR [rsp], 0          ; return address 0 for unwinders: the stack ends here
    mov     QWORD PTR [rsp+8], 0        ; and 0 above it (Windows stops on no progress)
    sub     rsp, 20h                    ; home space for the entry function; rsp 16-aligned
    .allocstack 20h
    .endprolog
    call    rbx                         ; entry(rcx = &{fctx, data})
    xor     ecx, ecx                    ; finish: the entry function returned, exit status 0
    call    _exit                       ; _exit, not exit: the context owns no atexit duty
    hlt                                 ; _exit does not return
fcontext_trampoline ENDP

; The rest of make_fcontext, reached by its last `call`.
fcontext_make_tail PROC FRAME
    .endprolog
    pop     rcx                         ; the address the call pushed: the trampoline's
    mov     [rax+118h], rcx             ; first jump resumes at the trampoline
    ret                                 ; rax = fctx
fcontext_make_tail ENDP

; transfer_t jump_fcontext(fcontext_t const to, void *vp)
; rcx = result buffer, rdx = to, r8 = vp
jump_fcontext PROC FRAME
    .endprolog
    SAVE_CONTEXT
    mov     r9, rsp                     ; our frame is the fctx handed to the target
    mov     rsp, rdx                    ; switch to the target's frame
    RESTORE_CONTEXT
    mov     r10, [rsp+118h]             ; the target's resume address
    lea     rsp, [rsp+120h]             ; drop frame and return address
    mov     [rax], r9                   ; its pending call returns {our fctx, vp}
    mov     [rax+8], r8                 ; ... and data = vp
    mov     rcx, rax                    ; a fresh context gets the pair by reference in rcx
    jmp     r10                         ; rax = the buffer, as the x64 ABI wants
jump_fcontext ENDP

; transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t))
; rcx = result buffer, rdx = to, r8 = vp, r9 = fn
ontop_fcontext PROC FRAME
    .endprolog
    SAVE_CONTEXT
    mov     r11, rsp                    ; our frame is the fctx handed to fn
    mov     rsp, rdx                    ; switch to the target's frame
    RESTORE_CONTEXT
    lea     rsp, [rsp+118h]             ; resume address stays: fn's return address
    mov     [rax], r11                  ; fn's argument {our fctx, vp}, in the same buffer
    mov     [rax+8], r8                 ; ... and data = vp
    mov     rcx, rax                    ; fn's hidden result pointer ...
    mov     rdx, rax                    ; ... and its by-reference argument alias
    jmp     r9                          ; fn returns straight into the target's pending call
ontop_fcontext ENDP

; Boost >= 1.87 C++ names as MSVC decorates them (boostorg/context #254 quotes
; the make and jump names; ontop's is computed with clang's MSVC mangler).
ALIAS <?make_fcontext@detail@context@boost@@YAPEAXPEAX_KP6AXUtransfer_t@123@@Z@Z> = <make_fcontext>
ALIAS <?jump_fcontext@detail@context@boost@@YA?AUtransfer_t@123@QEAXPEAX@Z> = <jump_fcontext>
ALIAS <?ontop_fcontext@detail@context@boost@@YA?AUtransfer_t@123@QEAXPEAXP6A?AU4123@U4123@@Z@Z> = <ontop_fcontext>

END
