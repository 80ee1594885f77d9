; fcontext for i386 (x86, 32-bit), Microsoft cdecl, PE/COFF, MASM (ml or
; llvm-ml -m32). asm/i386_ms_pe_gas.S is the same code for GNU as.
;
; Frame of a suspended context. `fctx` (an fcontext_t) is the address of its
; lowest byte; the layout is identical to Boost.Context 1.74.
;
;   offset | size | saved item                              | make_fcontext writes
;   -------+------+-----------------------------------------+---------------------
;     0x00 |    4 | MXCSR                                   | current MXCSR
;     0x04 |    2 | x87 control word (0x06-0x07 unused)     | current control word
;     0x08 |    4 | TIB+0x10  FiberData                     | 0
;     0x0c |    4 | TIB+0xe0c DeallocationStack             | sp - size
;     0x10 |    4 | TIB+0x08  StackLimit                    | sp - size
;     0x14 |    4 | TIB+0x04  StackBase                     | sp (as passed)
;     0x18 |    4 | TIB+0x00  ExceptionList (SEH chain)     | fctx + 0x38
;     0x1c |    4 | edi                                     | -
;     0x20 |    4 | esi                                     | -
;     0x24 |    4 | ebx                                     | entry function
;     0x28 |    4 | ebp                                     | address of finish
;     0x2c |    4 | resume (return) address                 | address of trampoline
;     0x30 |    8 | the pending call's to/vp argument slots | -   (fresh: entry argument;
;          |      | (ontop writes fn's argument there)      |      ontop: fn's argument)
;     0x38 |    4 | fresh only: SEH record `next`           | 0xffffffff (end of chain)
;     0x3c |    4 | fresh only: SEH record `handler`        | handler of the thread's last
;          |      |                                         | SEH record (SEHOP wants it)
;
; A fresh context has fctx = ((sp - 8) & ~15) - 0x40, so its entry function
; starts with esp + 4 16-aligned. transfer_t (8 bytes) is returned in
; eax:edx; a resumed call returns with esp = fctx + 0x30. The C decoration
; (leading underscore) is spelled out: llvm-ml does not apply `.model flat, c`
; decoration, and without a language type ml applies none either.
; Absolute addresses are fine here: 32-bit images carry base relocations.
;
; Assemble with /DFCONTEXT_LLVM_ML under llvm-ml, which has no ASSUME (ml needs
; ASSUME fs:NOTHING before fs: overrides).
;
; Defining FCONTEXT_NO_FPU_CONTROL (/D) drops the MXCSR / x87 control word save
; and restore from jump and ontop (make still fills the slots).

.386
.XMM
.model flat
EXTERN  __exit:PROC

; Saves the caller's callee-saved state as a frame below the return address
; (layout in the table above); esp is then the caller's fctx, edx the TIB.
SAVE_CONTEXT MACRO
    lea     esp, [esp-2ch]              ; frame below the return address
IFNDEF FCONTEXT_NO_FPU_CONTROL
    stmxcsr DWORD PTR [esp]             ; MXCSR control bits are callee-saved
    fnstcw  WORD PTR [esp+4]            ; so is the x87 control word
ENDIF
    mov     edx, fs:[18h]               ; the TIB (NT_TIB.Self)
    mov     ecx, [edx]                  ; TIB ExceptionList
    mov     [esp+18h], ecx              ; ExceptionList
    mov     ecx, [edx+04h]              ; TIB StackBase
    mov     [esp+14h], ecx              ; StackBase
    mov     ecx, [edx+08h]              ; TIB StackLimit
    mov     [esp+10h], ecx              ; StackLimit
    mov     ecx, [edx+0e0ch]            ; TIB DeallocationStack
    mov     [esp+0ch], ecx              ; DeallocationStack
    mov     ecx, [edx+10h]              ; TIB FiberData
    mov     [esp+08h], ecx              ; FiberData
    mov     [esp+1ch], edi              ; callee-saved: back when this side resumes
    mov     [esp+20h], esi              ; callee-saved: back when this side resumes
    mov     [esp+24h], ebx              ; callee-saved: back when this side resumes
    mov     [esp+28h], ebp              ; callee-saved: back when this side resumes
ENDM

; Loads the frame at esp (the target's) into the registers and the TIB (edx);
; ecx is scratch, eax is left alone.
RESTORE_CONTEXT MACRO
IFNDEF FCONTEXT_NO_FPU_CONTROL
    ldmxcsr DWORD PTR [esp]             ; the target's SSE control state
    fldcw   WORD PTR [esp+4]            ; the target's x87 control word
ENDIF
    mov     ecx, [esp+18h]              ; the target's stack and SEH chain become the thread's
    mov     [edx], ecx                  ; ... now describes the target
    mov     ecx, [esp+14h]              ; the target's StackBase
    mov     [edx+04h], ecx              ; ... now describes the target
    mov     ecx, [esp+10h]              ; the target's StackLimit
    mov     [edx+08h], ecx              ; ... now describes the target
    mov     ecx, [esp+0ch]              ; the target's DeallocationStack
    mov     [edx+0e0ch], ecx            ; ... now describes the target
    mov     ecx, [esp+08h]              ; the target's FiberData
    mov     [edx+10h], ecx              ; ... now describes the target
    mov     edi, [esp+1ch]              ; the target's edi
    mov     esi, [esp+20h]              ; the target's esi
    mov     ebx, [esp+24h]              ; the target's ebx
    mov     ebp, [esp+28h]              ; the target's ebp
ENDM


.code
IFNDEF FCONTEXT_LLVM_ML
ASSUME  fs:NOTHING                      ; ml: allow fs: (the TIB); llvm-ml lacks ASSUME
ENDIF

; fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t))
_make_fcontext PROC
    mov     eax, [esp+4]                ; the stack top passed in
    lea     eax, [eax-8]                ; 8 bytes below the top stay unused (Boost's placement)
    and     eax, -16                    ; 16-byte aligned frame base
    lea     eax, [eax-40h]              ; fctx = 0 (mod 16): entry esp + 4 aligned
    stmxcsr DWORD PTR [eax]             ; fresh context inherits the SSE control/status
    fnstcw  WORD PTR [eax+4]            ; ... and the x87 control word
    mov     ecx, [esp+4]                ; sp
    mov     [eax+14h], ecx              ; StackBase: the top as given
    sub     ecx, [esp+8]                ; sp - size
    mov     [eax+10h], ecx              ; StackLimit: lowest usable address
    mov     [eax+0ch], ecx              ; DeallocationStack: same
    mov     DWORD PTR [eax+08h], 0      ; FiberData: a context is no Windows fiber
    mov     ecx, [esp+0ch]              ; the entry function
    mov     [eax+24h], ecx              ; trampoline finds the entry function in ebx
    mov     DWORD PTR [eax+2ch], OFFSET fcontext_trampoline ; first jump resumes there
    mov     DWORD PTR [eax+28h], OFFSET fcontext_finish     ; trampoline makes finish the return address
    mov     ecx, fs:[0]                 ; head of the thread's SEH chain
    xor     edx, edx                    ; no handler if the chain is empty
    cmp     ecx, -1                     ; an empty chain?
    je      store_handler               ; then there is no handler to copy
walk:
    mov     edx, [ecx]                  ; walk to the record whose next is -1
    cmp     edx, -1                     ; the last record?
    je      found                       ; found it
    mov     ecx, edx                    ; on to the next record
    jmp     walk                        ; keep walking
found:
    mov     edx, [ecx+4]                ; its handler (normally ntdll's final one)
store_handler:
    mov     [eax+3ch], edx              ; the context's own terminal SEH record
    mov     DWORD PTR [eax+38h], -1     ; next = -1: end of the context's chain
    lea     ecx, [eax+38h]              ; the address of that record
    mov     [eax+18h], ecx              ; ... is the context's whole SEH chain
    ret                                 ; eax = fctx
fcontext_trampoline:                    ; labels inside the PROC stay local to it
    mov     [esp], eax                  ; entry argument {fctx, data} (esp = fctx + 0x30)
    mov     [esp+4], edx                ; entry argument transfer_t.data
    push    ebp                         ; finish becomes the entry function's return address
    jmp     ebx                         ; enter fn(transfer_t)
fcontext_finish:
    push    0                           ; the entry function returned: exit status 0
    call    __exit                      ; _exit, not exit: the context owns no atexit duty
    hlt                                 ; _exit does not return
_make_fcontext ENDP

; transfer_t jump_fcontext(fcontext_t const to, void *vp)
; stack at entry: return address, to, vp
_jump_fcontext PROC
    SAVE_CONTEXT
    mov     eax, esp                    ; our frame is the fctx handed to the target
    mov     esp, [esp+30h]              ; switch to the target's frame
    RESTORE_CONTEXT
    mov     ecx, [esp+2ch]              ; the target's resume address
    mov     edx, [eax+34h]              ; vp, from our own argument slot
    lea     esp, [esp+30h]              ; drop frame and return address
    jmp     ecx                         ; eax:edx = {our fctx, vp}
_jump_fcontext ENDP

; transfer_t ontop_fcontext(fcontext_t const to, void *vp, transfer_t (*fn)(transfer_t))
; stack at entry: return address, to, vp, fn
_ontop_fcontext PROC
    SAVE_CONTEXT
    mov     eax, esp                    ; our frame is the fctx handed to fn
    mov     esp, [esp+30h]              ; switch to the target's frame
    mov     [esp+30h], eax              ; fn's argument {our fctx, vp} goes into the
    mov     ecx, [eax+34h]              ; target's own (now dead) argument slots
    mov     [esp+34h], ecx              ; ... and data = vp
    mov     eax, [eax+38h]              ; fn, kept in a register nothing restores
    RESTORE_CONTEXT
    lea     esp, [esp+2ch]              ; resume address stays: fn's return address
    jmp     eax                         ; fn returns eax:edx into the target's pending call
_ontop_fcontext ENDP

END
