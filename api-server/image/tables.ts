// Row shapes of the image tables (see migrations.ts). Booleans are 0/1, timestamps ISO strings,
// sizes plain numbers (bigint columns; JavaScript numbers are exact up to 8 PiB); store.ts
// converts rows to records at the edge.
export interface ImageTables {
  image_image: {
    id: string;
    name: string | null;
    status: string;
    visibility: string;
    protected: number;
    os_hidden: number;
    owner: string;
    disk_format: string | null;
    container_format: string | null;
    min_ram: number;
    min_disk: number;
    size: number | null;
    virtual_size: number | null;
    checksum: string | null;
    os_hash_algo: string | null;
    os_hash_value: string | null;
    /** Where the store keeps the data (a store driver's URI); never shown to non-admins. */
    location: string | null;
    created_at: string;
    updated_at: string;
  };
  /** Custom properties: any key a client sets that is not a core attribute. */
  image_property: { image_id: string; name: string; value: string };
  image_tag: { image_id: string; value: string };
  image_member: {
    image_id: string;
    member_id: string;
    status: string;
    created_at: string;
    updated_at: string;
  };
}
