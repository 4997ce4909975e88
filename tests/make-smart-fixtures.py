#!/usr/bin/env python3
# Build the SMART fixtures that are laid out from the specifications (tests/fixtures/smart/,
# see its README): NVMe SMART / Health Information log pages (NVM Express Base Specification
# 2.0, Log Identifier 02h) and ATA SMART READ DATA / READ THRESHOLDS structures
# (ACS-3 and the SMART attribute layout smartmontools documents: 30 entries of 12 bytes
# from offset 2, checksum in byte 511) with the sense data of SMART RETURN STATUS through
# ATA PASS-THROUGH with CK_COND (SPC-4 descriptor-format sense, SAT-3 ATA Status Return
# descriptor 09h). The dumps captured in QEMU (*-qemu*) are not made here.
#
# usage: tests/make-smart-fixtures.py [DIR]   (default tests/fixtures/smart)
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures", "smart")
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes(data))


def u128(v):
    return v.to_bytes(16, "little")


def nvme_log(warning=0, kelvin=310, spare=100, spare_thr=10, used=3, units_read=0x10000,
             units_written=0x123456, power_on_hours=12345, unsafe=17, media_errors=0):
    log = bytearray(512)
    log[0] = warning
    log[1:3] = struct.pack("<H", kelvin)
    log[3] = spare
    log[4] = spare_thr
    log[5] = used
    log[32:48] = u128(units_read)
    log[48:64] = u128(units_written)
    log[64:80] = u128(4000000)  # host read commands
    log[80:96] = u128(3000000)  # host write commands
    log[96:112] = u128(321)  # controller busy time
    log[112:128] = u128(250)  # power cycles
    log[128:144] = u128(power_on_hours)
    log[144:160] = u128(unsafe)
    log[160:176] = u128(media_errors)
    log[176:192] = u128(5)  # error information log entries
    log[200:202] = struct.pack("<H", kelvin + 2)  # temperature sensor 1
    return log


write("nvme-healthy.bin", nvme_log())
for bit, name in enumerate(["spare", "temperature", "reliability", "read-only",
                            "volatile-backup", "pmr-read-only"]):
    write("nvme-warning-%s.bin" % name,
          nvme_log(warning=1 << bit, spare=5 if bit == 0 else 100))
write("nvme-warning-reserved.bin", nvme_log(warning=0xc0))
write("nvme-worn.bin", nvme_log(used=101, units_written=0x3b9aca00))
write("nvme-used-89.bin", nvme_log(used=89))
write("nvme-used-90.bin", nvme_log(used=90))
write("nvme-media-errors.bin", nvme_log(media_errors=2))
write("nvme-spare-below.bin", nvme_log(spare=9, spare_thr=10))
write("nvme-spare-zero.bin", nvme_log(spare=0, spare_thr=0))
write("nvme-no-temperature.bin", nvme_log(kelvin=0))
# 128-bit counters beyond int64: one with bytes above 8 set, one with only bit 63
write("nvme-huge-counters.bin", nvme_log(units_written=1 << 64 | 5, power_on_hours=1 << 63,
                                         unsafe=(1 << 63) - 1, media_errors=(1 << 128) - 1))
write("nvme-short.bin", nvme_log()[:511])


def ata_page(entries):
    """entries: (id, two-byte flags or threshold, ...) packed into 12-byte slots"""
    page = bytearray(512)
    page[0:2] = struct.pack("<H", 16)  # data structure revision
    for i, e in enumerate(entries):
        page[2 + 12 * i:2 + 12 * (i + 1)] = e
    page[511] = (-sum(page[:511])) & 0xff
    return page


def attr(id_, flags, current, worst, raw):
    return struct.pack("<BHBB", id_, flags, current, worst) + raw.to_bytes(6, "little") + b"\0"


def thr(id_, threshold):
    return struct.pack("<BB", id_, threshold) + bytes(10)


PREFAIL, OLDAGE = 0x0033, 0x0032


def ata_case(name, attrs, thresholds, sense=None, break_data=False, break_thresholds=False):
    data = ata_page([attr(*a) for a in attrs])
    th = ata_page([thr(a[0], t) for a, t in zip(attrs, thresholds)])
    if break_data:
        data[100] ^= 0x01
    if break_thresholds:
        th[511] ^= 0x01
    write("ata-%s.data.bin" % name, data)
    write("ata-%s.thresholds.bin" % name, th)
    if sense is not None:
        write("ata-%s.sense.bin" % name, sense)


def sense_status(mid, high, status=0x50, error=0x00, key=0x01, asc=0x00, ascq=0x1d):
    """descriptor-format sense (RECOVERED ERROR, ATA PASS-THROUGH INFORMATION AVAILABLE
    by default) with an ATA Status Return descriptor"""
    desc = bytes([0x09, 0x0c, 0x00, error, 0, 0, 0, 0, 0, mid, 0, high, 0x00, status])
    return bytes([0x72, key, asc, ascq, 0, 0, 0, len(desc)]) + desc


SENSE_OK = sense_status(0x4f, 0xc2)
SENSE_EXCEEDED = sense_status(0xf4, 0x2c)


def healthy_attrs(realloc=0, pending=0, offline=0, realloc_value=100, airflow_value=69):
    return [
        (1, 0x000f, 117, 99, 0x0000094a5c68),  # raw read error rate
        (3, 0x0003, 97, 97, 0),  # spin-up time
        (4, OLDAGE, 100, 100, 1234),  # start/stop count
        (5, PREFAIL, realloc_value, realloc_value, realloc),  # reallocated sectors
        # power-on hours: 23456 in the low 32 bits, something else in the upper 16
        (9, OLDAGE, 74, 74, 0x0005 << 32 | 23456),
        (12, OLDAGE, 100, 100, 1230),  # power cycles
        # airflow temperature 31 (min 22, max 45 in the upper bytes)
        (190, 0x0022, airflow_value, 55, 0x2d16001f),
        # temperature 33 (min 20, max 47)
        (194, 0x0022, 33, 53, 0x002f00140021),
        (197, 0x0012, 100, 100, pending),  # current pending sectors
        (198, 0x0010, 100, 100, offline),  # offline uncorrectable
        (199, 0x003e, 200, 200, 0),  # UDMA CRC errors
    ]


THRESHOLDS = [6, 0, 20, 10, 0, 20, 45, 0, 0, 0, 0]

ata_case("healthy", healthy_attrs(), THRESHOLDS, SENSE_OK)
ata_case("worn", healthy_attrs(realloc=8, pending=2, offline=1), THRESHOLDS, SENSE_OK)
ata_case("pending", healthy_attrs(pending=3), THRESHOLDS, SENSE_OK)
# reallocated sectors' value at its threshold (10): a pre-fail attribute failing now, while
# RETURN STATUS (as some firmware does) still says passed
ata_case("prefail-failing", healthy_attrs(realloc=2000, realloc_value=10), THRESHOLDS, SENSE_OK)
# the same with a thresholds table whose checksum fails: thresholds unknown, nothing failing
ata_case("bad-thresholds", healthy_attrs(realloc=0, realloc_value=10), THRESHOLDS, SENSE_OK,
         break_thresholds=True)
# airflow temperature (old age) at its threshold 45: warning, not failing
ata_case("oldage-failing", healthy_attrs(airflow_value=45), THRESHOLDS, SENSE_OK)
ata_case("threshold-exceeded", healthy_attrs(), THRESHOLDS, SENSE_EXCEEDED)
ata_case("no-status", healthy_attrs(), THRESHOLDS)
ata_case("bad-checksum", healthy_attrs(), THRESHOLDS, SENSE_OK, break_data=True)
# no attribute 194: the temperature is 190's
ata_case("airflow-only", [a for a in healthy_attrs() if a[0] != 194],
         [t for a, t in zip(healthy_attrs(), THRESHOLDS) if a[0] != 194], SENSE_OK)
# raw values of 48 bits in full
ata_case("raw48", healthy_attrs(realloc=0xffffffffffff, pending=0x10000000000), THRESHOLDS,
         SENSE_OK)

# sense data alone: what SMART RETURN STATUS makes of it
write("sense-ok.bin", SENSE_OK)
write("sense-exceeded.bin", SENSE_EXCEEDED)
# neither answer in LBA mid/high
write("sense-other.bin", sense_status(0x00, 0x00))
# the drive aborted the command (SMART disabled): ERR in the status, ABRT in the error
write("sense-aborted.bin", sense_status(0x4f, 0xc2, status=0x51, error=0x04, key=0x0b, ascq=0))
# fixed-format sense (70h): an error with no ATA Status Return descriptor
write("sense-fixed.bin", bytes([0x70, 0, 0x0b, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
# another descriptor first (information, 00h), then the ATA status one
write("sense-two-descriptors.bin", bytes([0x72, 0x01, 0x00, 0x1d, 0, 0, 0, 12 + 14]) +
      bytes([0x00, 0x0a, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]) + SENSE_OK[8:])
# the ATA descriptor cut short by the additional length
write("sense-truncated.bin", bytes([0x72, 0x01, 0x00, 0x1d, 0, 0, 0, 10]) + SENSE_OK[8:18])
