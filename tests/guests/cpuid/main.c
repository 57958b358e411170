/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpuid: what pvhv shows and hides through CPUID, MSRs and unknown ports,
 * and the XSAVE contract: XSAVE is shown when the host has it, leaf 0xD
 * offers at most x87|SSE|AVX|AVX-512, OSXSAVE mirrors CR4.OSXSAVE and
 * XSETBV faults as the SDM says.
 *
 * cmdline: vcpus=N (the domain's vCPU count, default 1); xsave=1 (XSAVE
 * must be shown, e.g. on QEMU's -cpu max).
 */
#include "guest.h"

GUEST_NAME("cpuid");

#define MSR_EFER 0xc0000080u
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_SVME (1ull << 12)
#define UD_VECTOR 6
#define GP_VECTOR 13
#define CR4_OSXSAVE (1ull << 18)
/* x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM): what pvhv manages. */
#define XCR0_MANAGED 0xe7u

#define KVM_CPUID_BASE 0x40000100u
#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE (1u << 24)

static uint32_t osxsave_bit(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return (c >> 27) & 1;
}

/* The brand string (leaves 0x80000002..4), or "" without them. */
static void brand_string(uint32_t max_ext, char out[49])
{
	uint32_t r[12];

	out[0] = 0;
	if (max_ext < 0x80000004)
		return;
	for (unsigned i = 0; i < 3; i++)
		cpuid(0x80000002 + i, 0, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
	memcpy(out, r, 48);
	out[48] = 0;
}

static int contains(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (size_t len = strlen(s); len >= n; s++, len--)
		if (!memcmp(s, w, n))
			return 1;
	return 0;
}

/*
 * XSAVE shown: leaf 0xD and XSETBV behave as on hardware with XCR0 <= 0xE7.
 * tcg: the host CPU is QEMU's TCG, which checks a nested guest's XSETBV
 * against its own CPUID 0xD and never applies the SVM XSETBV intercept
 * (QEMU 7.2 helper_xsetbv), so pvhv does not see XSETBV there.
 */
static void check_xsave_shown(int tcg)
{
	uint32_t a, b, c, d;

	cpuid(0xd, 0, &a, &b, &c, &d);
	uint64_t mask = ((uint64_t)d << 32) | a;
	check((mask & 3) == 3, "leaf 0xd EAX 0x%x has x87|SSE", a);
	check(!(mask & ~(uint64_t)XCR0_MANAGED), "leaf 0xd EDX:EAX 0x%lx within 0x%x", mask,
	      XCR0_MANAGED);
	check(b >= 512 + 64 && c >= b, "leaf 0xd sizes: EBX %u (current) <= ECX %u (max)", b, c);

	uint64_t cr4 = read_cr4();
	check(!(cr4 & CR4_OSXSAVE), "CR4.OSXSAVE clear at entry (cr4 0x%lx)", cr4);
	check(osxsave_bit() == !!(cr4 & CR4_OSXSAVE), "CPUID.1:ECX[27] OSXSAVE %u == CR4.OSXSAVE %u",
	      osxsave_bit(), !!(cr4 & CR4_OSXSAVE));
	int rc = try_xsetbv(0, 3);
	check(rc == -UD_VECTOR, "xsetbv with CR4.OSXSAVE clear faults with #UD (rc %d)", rc);

	write_cr4(cr4 | CR4_OSXSAVE);
	check(read_cr4() & CR4_OSXSAVE, "CR4.OSXSAVE set (cr4 0x%lx)", read_cr4());
	check(osxsave_bit() == 1, "CPUID.1:ECX[27] OSXSAVE now 1");
	uint64_t x = xgetbv(0);
	check((x & 1) && !(x & ~mask), "XCR0 0x%lx at entry: x87, within leaf 0xd's 0x%lx", x, mask);

	rc = try_xsetbv(0, 3);
	check(rc == 0, "xsetbv XCR0=3 works (rc %d)", rc);
	check(xgetbv(0) == 3, "xgetbv reads back XCR0 0x%lx == 3", xgetbv(0));

	/* The lowest XCR0 bit leaf 0xD does not offer (bits 8/9 are never offered). */
	unsigned bit = 1;
	while (bit < 63 && (mask & (1ull << bit)))
		bit++;
	rc = try_xsetbv(0, 3 | (1ull << bit));
	check(rc == -GP_VECTOR, "xsetbv XCR0=0x%llx (bit %u outside 0x%lx) faults with #GP (rc %d)",
	      3 | (1ull << bit), bit, mask, rc);
	if (!tcg) {
		rc = try_xsetbv(0, 3 | (1ull << 9));
		check(rc == -GP_VECTOR, "xsetbv XCR0=0x203 (PKRU, unmanaged) faults with #GP (rc %d)", rc);
	} else {
		gprintf("skipped: xsetbv XCR0=0x203 (PKRU): QEMU TCG does not intercept XSETBV\n");
	}
	rc = try_xsetbv(0, 0);
	check(rc == -GP_VECTOR, "xsetbv XCR0=0 (x87 clear) faults with #GP (rc %d)", rc);
	rc = try_xsetbv(1, 3);
	check(rc == -GP_VECTOR, "xsetbv ECX=1 faults with #GP (rc %d)", rc);
	check(xgetbv(0) == 3, "XCR0 still 3 after the faulting xsetbvs (0x%lx)", xgetbv(0));
	if (mask & 4) {
		rc = try_xsetbv(0, 7);
		check(rc == 0 && xgetbv(0) == 7, "xsetbv XCR0=7 (AVX) works (rc %d, xcr0 0x%lx)", rc,
		      xgetbv(0));
		cpuid(0xd, 0, &a, &b, &c, &d);
		check(b >= 576 + 256, "leaf 0xd EBX %u covers the AVX state now enabled", b);
		rc = try_xsetbv(0, 5);
		check(rc == -GP_VECTOR, "xsetbv XCR0=5 (AVX without SSE) faults with #GP (rc %d)", rc);
	}
	if ((mask & 0xe7) == 0xe7) {
		rc = try_xsetbv(0, 0xe7);
		check(rc == 0 && xgetbv(0) == 0xe7, "xsetbv XCR0=0xe7 (AVX-512) works (rc %d, xcr0 0x%lx)",
		      rc, xgetbv(0));
		rc = try_xsetbv(0, 0x27);
		check(rc == -GP_VECTOR, "xsetbv XCR0=0x27 (part of AVX-512) faults with #GP (rc %d)", rc);
	}
	try_xsetbv(0, 3);
}

static void check_xsave_hidden(uint32_t ecx1)
{
	uint64_t cr4 = read_cr4();

	check(!(ecx1 & (1u << 27)), "OSXSAVE clear (CPUID.1:ECX[27])");
	check(!(cr4 & CR4_OSXSAVE), "CR4.OSXSAVE clear (cr4 0x%lx)", cr4);
	int rc = try_xsetbv(0, 3);
	check(rc == -UD_VECTOR, "xsetbv without XSAVE faults with #UD (rc %d)", rc);
}

static void check_kvm_leaves(void)
{
	uint32_t a, b, c, d;
	char sig[13];

	cpuid(KVM_CPUID_BASE, 0, &a, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	check(b == 0x4b4d564b && c == 0x564b4d56 && d == 0x4d,
	      "leaf 0x%x signature 0x%08x 0x%08x 0x%08x is \"KVMKVMKVM\\0\\0\\0\" (\"%s\")",
	      KVM_CPUID_BASE, b, c, d, sig);
	check(a >= KVM_CPUID_BASE + 1, "leaf 0x%x max leaf 0x%x >= 0x%x", KVM_CPUID_BASE, a,
	      KVM_CPUID_BASE + 1);
	cpuid(KVM_CPUID_BASE + 1, 0, &a, &b, &c, &d);
	uint32_t want = KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_NOP_IO_DELAY |
			KVM_FEATURE_CLOCKSOURCE_STABLE;
	check((a & want) == want, "leaf 0x%x EAX 0x%x has CLOCKSOURCE2|NOP_IO_DELAY|STABLE_BIT (0x%x)",
	      KVM_CPUID_BASE + 1, a, want);
}

int main(const struct pvhv_start_info *si)
{
	uint32_t a, b, c, d, max_basic, max_ext;
	char vendor[13];

	cpuid(0, 0, &max_basic, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = '\0';
	cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
	gprintf("vendor \"%s\", max basic leaf 0x%x, max extended leaf 0x%x\n", vendor,
		max_basic, max_ext);
	char brand[49];
	brand_string(max_ext, brand);
	gprintf("brand \"%s\"\n", brand);

	uint32_t ecx1, edx1;
	cpuid(1, 0, &a, &b, &ecx1, &edx1);
	check(ecx1 & (1u << 31), "CPUID.1:ECX[31] hypervisor bit set (ecx 0x%08x)", ecx1);
	check(!(ecx1 & (1u << 5)), "VMX hidden (CPUID.1:ECX[5])");
	check(!(ecx1 & (1u << 3)), "MONITOR hidden (CPUID.1:ECX[3])");
	check(ecx1 & (1u << 21), "x2APIC shown (CPUID.1:ECX[21])");
	check(ecx1 & (1u << 24), "TSC-deadline shown (CPUID.1:ECX[24])");
	check(edx1 & (1u << 9), "APIC shown (CPUID.1:EDX[9], edx 0x%08x)", edx1);
	int xsave = !!(ecx1 & (1u << 26));
	gprintf("XSAVE %s (CPUID.1:ECX[26])\n", xsave ? "shown" : "hidden");
	if (cmdline_u64("xsave", 0))
		check(xsave, "XSAVE shown, as xsave=1 says");
	if (xsave)
		check_xsave_shown(contains(brand, "QEMU"));
	else
		check_xsave_hidden(ecx1);
	if (max_basic >= 6) {
		cpuid(6, 0, &a, &b, &c, &d);
		check(a & (1u << 2), "ARAT shown (CPUID.6:EAX[2], eax 0x%08x)", a);
	} else {
		check(0, "ARAT: max basic leaf 0x%x < 6", max_basic);
	}
	if (max_ext >= 0x80000007) {
		cpuid(0x80000007, 0, &a, &b, &c, &d);
		check(d & (1u << 8), "invariant TSC shown (CPUID.80000007:EDX[8], edx 0x%08x)", d);
	} else {
		check(0, "invariant TSC: max extended leaf 0x%x < 0x80000007", max_ext);
	}
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		check(!(c & (1u << 2)), "SVM hidden (CPUID.80000001:ECX[2], ecx 0x%08x)", c);
	} else {
		check(1, "SVM hidden (no leaf 0x80000001)");
	}
	if (max_basic >= 0xa) {
		cpuid(0xa, 0, &a, &b, &c, &d);
		check(a == 0, "PMU hidden (CPUID.A:EAX 0x%08x)", a);
	} else {
		check(1, "PMU hidden (max basic leaf 0x%x < 0xa)", max_basic);
	}

	cpuid(PVHV_CPUID_BASE, 0, &a, &b, &c, &d);
	check(b == PVHV_CPUID_SIGNATURE_EBX && c == PVHV_CPUID_SIGNATURE_ECX &&
		      d == PVHV_CPUID_SIGNATURE_EDX,
	      "leaf 0x%x signature 0x%08x 0x%08x 0x%08x is \"pvhvpvhvpvhv\"", PVHV_CPUID_BASE, b,
	      c, d);
	check(a >= PVHV_CPUID_INFO, "leaf 0x%x max leaf 0x%x >= 0x%x", PVHV_CPUID_BASE, a,
	      PVHV_CPUID_INFO);

	check_kvm_leaves();

	uint64_t vcpus = cmdline_u64("vcpus", 1);
	cpuid(PVHV_CPUID_INFO, 0, &a, &b, &c, &d);
	check(a == PVHV_ABI_VERSION, "leaf 0x%x EAX 0x%x == ABI version 0x%x", PVHV_CPUID_INFO, a,
	      PVHV_ABI_VERSION);
	check(c == 0, "leaf 0x%x ECX (vCPU index) %u == 0", PVHV_CPUID_INFO, c);
	check(d == vcpus, "leaf 0x%x EDX (vCPU count) %u == vcpus=%lu", PVHV_CPUID_INFO, d, vcpus);
	check(b & PVHV_CPUID_F_COM1, "leaf 0x%x EBX 0x%x has F_COM1", PVHV_CPUID_INFO, b);
	int amd = streq(vendor, "AuthenticAMD"), intel = streq(vendor, "GenuineIntel");
	if (amd || intel)
		check(!!(b & PVHV_CPUID_F_VMMCALL) == amd, "F_VMMCALL %s on %s",
		      b & PVHV_CPUID_F_VMMCALL ? "set" : "clear", vendor);

	uint64_t v = 0;
	int rc = try_rdmsr(0xc0011234, &v);
	check(rc == -GP_VECTOR, "rdmsr 0xc0011234 faults with #GP (rc %d, value 0x%lx)", rc, v);
	rc = try_rdmsr(0x12345678, &v);
	check(rc == -GP_VECTOR, "rdmsr 0x12345678 faults with #GP (rc %d, value 0x%lx)", rc, v);

	uint64_t efer = 0;
	rc = try_rdmsr(MSR_EFER, &efer);
	check(rc == 0, "rdmsr EFER works (rc %d)", rc);
	check((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	      "EFER 0x%lx has LME and LMA", efer);
	check(!(efer & EFER_SVME), "EFER 0x%lx has SVME clear", efer);
	rc = try_wrmsr(MSR_EFER, efer | EFER_SVME);
	check(rc == -GP_VECTOR, "wrmsr EFER|SVME faults with #GP (rc %d)", rc);
	rc = try_rdmsr(MSR_EFER, &v);
	check(rc == 0 && v == efer, "EFER unchanged afterwards (0x%lx)", v);

	uint8_t b8 = inb(0x1234);
	uint16_t w16 = inw(0x1234);
	uint32_t l32 = inl(0x1234);
	check(b8 == 0xff, "inb 0x1234 = 0x%x", b8);
	check(w16 == 0xffff, "inw 0x1234 = 0x%x", w16);
	check(l32 == 0xffffffff, "inl 0x1234 = 0x%x", l32);
	outb(0x1234, 0x5a);
	check(inb(0x1234) == 0xff, "inb 0x1234 still 0xff after a write");

	finish();
}
